"""A crawl never says "complete" having reached nothing (issue 32): a followed host that cannot be
reached is said once, with the flag that fixes it, its links wait for the next crawl and the crawl
is partial; one flag points every service at an emulator; Scrapy's retry errors stay off the
terminal and are counted."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import copy_warehouse, request_log, rows, world_flags
from openness.cli.main import cli
from openness.pipeline.config import CrawlConfig
from openness.pipeline.reach import unreachable_followers

NOWHERE_GITHUB = "http://github.invalid/api/v3"  # .invalid never resolves
NOWHERE_WEB = "http://papers.invalid"


def crawl(warehouse, *args):
    return CliRunner().invoke(cli, ["--warehouse", warehouse, "crawl", *args])


def test_an_unreachable_followed_host_is_said_once_and_the_crawl_is_partial(sample_world, emulator, warehouse, capfd):
    server = emulator(sample_world)
    capfd.readouterr()
    result = crawl(warehouse, "--hub-endpoint", server.base_url, "--github-api", NOWHERE_GITHUB,
                   "--web-base", NOWHERE_WEB)
    assert result.exit_code == 75, result.output
    assert result.output.count("unreachable github: http://github.invalid/api/v3 could not be reached") == 1
    assert "give --github-api, or --world-endpoint for an emulator" in result.output
    assert result.output.count("unreachable web: http://papers.invalid could not be reached") == 1
    terminal = capfd.readouterr().err  # the crawl process's own log
    assert "ERROR" not in terminal and "Traceback" not in terminal and "Traceback" not in result.output
    assert "partial: links to github and web were not followed" in result.output
    code = rows(warehouse, "SELECT DISTINCT status, reason, transient FROM link_targets WHERE kind = 'code'")
    assert code == [("failed", "unreachable", True)]
    papers = rows(warehouse, "SELECT DISTINCT status, reason, transient FROM link_targets WHERE kind = 'paper'")
    assert papers == [("failed", "unreachable", True)]
    assert not [r for r in request_log(server) if r["bucket"] in ("github", "web")]

    # the next crawl, with the hosts back, follows them: nothing waits for a recheck period
    again = crawl(warehouse, *world_flags(server))
    assert again.exit_code == 0, again.output
    assert rows(warehouse, "SELECT count(*) FROM link_targets WHERE reason = 'unreachable'") == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM code_repos")[0][0] > 0


def test_only_the_services_a_crawl_follows_are_checked():
    base = dict(warehouse="w.duckdb", github_api=NOWHERE_GITHUB, web_base=NOWHERE_WEB)
    assert set(unreachable_followers(CrawlConfig(**base), timeout=2)) == {"github", "web"}
    assert set(unreachable_followers(CrawlConfig(**base, fetch_papers=False), timeout=2)) == {"github"}
    assert unreachable_followers(CrawlConfig(**base, follow_depth=0), timeout=2) == {}


def test_one_flag_points_every_service_at_the_emulator(sample_crawled, sample_world, emulator, warehouse, tmp_path):
    server = emulator(sample_world)
    result = crawl(warehouse, "--world-endpoint", server.base_url, "--json")
    assert result.exit_code == 0, result.output
    baseline = copy_warehouse(sample_crawled[0], str(tmp_path / "baseline.duckdb"))
    outcome = "SELECT kind, target, status, reason FROM link_targets ORDER BY ALL"
    assert rows(warehouse, outcome) == rows(baseline, outcome)
    buckets = {r["bucket"] for r in request_log(server)}
    assert {"api", "resolvers", "github", "web"} <= buckets

    both = crawl(warehouse, "--world-endpoint", server.base_url, "--github-api", NOWHERE_GITHUB)
    assert both.exit_code == 2 and "leave out --github-api" in both.output


@pytest.mark.parametrize("verbose", [False, True])
def test_requests_given_up_after_their_retries_are_counted_not_printed(sample_world, emulator, warehouse, verbose,
                                                                      capfd):
    server = emulator(sample_world, faults="error=1,only=/api/v3/repos/aurora-labs")
    capfd.readouterr()
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, *(["-v"] if verbose else []), "crawl",
                                      *world_flags(server)])
    assert result.exit_code in (0, 75), result.output
    assert "requests given up after their retries; -v prints each" in result.output
    terminal = capfd.readouterr().err  # the crawl process writes its log there
    assert ("Gave up retrying" in terminal) is verbose


@pytest.mark.parametrize("fault", ["reset=1", "truncate=1", "error=1"])
def test_a_followed_repo_whose_tree_failed_for_now_makes_the_crawl_partial(sample_world, emulator, warehouse, fault):
    """The repo answered, its file tree did not (a reset, a cut body, a 503): the target failed for
    now, never a bad payload for good, the crawl is partial, and the next crawl reads it whole."""
    flaky = emulator(sample_world, faults=f"{fault},only=/git/trees/")
    first = crawl(warehouse, *world_flags(flaky), "--json")
    assert first.exit_code == 75, first.output
    # failed for now, or read without its files and stored incomplete: either way followed again
    unsettled = rows(warehouse, "SELECT count(*) FROM link_targets WHERE kind = 'code' AND status = 'failed' AND transient")[0][0]
    incomplete = rows(warehouse, "SELECT count(*) FROM code_repos WHERE NOT complete")[0][0]
    assert unsettled + incomplete > 0
    assert rows(warehouse, "SELECT count(*) FROM link_targets WHERE reason = 'bad_payload'") == [(0,)]
    again = crawl(warehouse, *world_flags(emulator(sample_world)))
    assert again.exit_code == 0, again.output
    assert rows(warehouse, "SELECT kind, target, reason FROM link_targets WHERE status = 'failed' AND transient") == []
    assert rows(warehouse, "SELECT count(*) FROM latest_code_repos WHERE NOT complete") == [(0,)]  # read whole
