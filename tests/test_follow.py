"""Following the evidence: datasets, base models, GitHub repos and papers are reached from the
models' links, each target once per crawl, and every link ends resolved, failed with a reason, or
deferred (and a later crawl takes the deferred ones up)."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import REAL_SAMPLE, copy_warehouse, request_log, rows, scalar, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.emulator.store import World

FAST = {"RETRY_BACKOFF_BASE": 0.01, "WEB_DELAY": 0.0}


def crawl(warehouse, server, **options):
    settings = {**FAST, **options.pop("settings", {})}
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings=settings,
                                 **{**world_endpoints(server), **options}))


def github_repo_requests(server) -> Counter:
    """How often each repo's own metadata was asked for (one per 'set' of a repo's requests)."""
    return Counter(r["path"].lower() for r in request_log(server)
                   if r["bucket"] == "github" and r["path"].count("/") == 5 and "?" not in r["path"])


# -- the real sample ----------------------------------------------------------------------------

def test_real_sample_reaches_held_repos_records_missing_ones_and_scores_none_twice(real_sample, emulator, warehouse):
    server = emulator(real_sample)
    result = crawl(warehouse, server)
    assert result.status == "complete"
    held = set(World(real_sample).github)
    linked = {t for (t,) in rows(warehouse, "SELECT DISTINCT target FROM links WHERE kind = 'code' "
                                            "AND relevance <> 'mention'")}
    assert linked, "the real sample's cards link GitHub repos"
    mentioned = {t for (t,) in rows(warehouse, "SELECT DISTINCT target FROM links WHERE relevance = 'mention'")}
    assert "github.com/eleutherai/lm-evaluation-harness" in mentioned - linked  # a library a card used: not followed
    for target, status, reason, http_status in rows(
            warehouse, "SELECT target, status, reason, http_status FROM link_targets WHERE kind = 'code'"):
        if target.removeprefix("github.com/") in held:
            assert status == "resolved", target
        else:
            assert (status, reason, http_status) == ("failed", "not_found", 404), target
    reached = {r for (r,) in rows(warehouse, "SELECT repo FROM code_repos")}
    assert reached == {t for t in linked if t.removeprefix("github.com/") in held} and len(reached) >= 1
    assert rows(warehouse, "SELECT repo, count(*) FROM code_repos GROUP BY repo HAVING count(*) > 1") == []
    assert set(github_repo_requests(server).values()) == {1}  # no repo asked for twice
    paths = [r["path"] for r in request_log(server) if r["bucket"] == "github"]
    assert len(paths) == len(set(paths))
    # every link row says where it came from, and every followed link has an outcome; a mentioned repo is not followed
    for kind, context, status, relevance in rows(warehouse, "SELECT kind, context, status, relevance FROM links"):
        followed = relevance != "mention" or kind == "paper"  # every paper is recorded, a mentioned repo is not
        assert context and status in (("resolved", "failed") if followed else ("not_followed",)), (kind, context, status)


CALIBRATION = REAL_SAMPLE.parent / "calibration"


def test_real_repos_have_roles_and_licences_with_evidence(real_sample, emulator, warehouse):
    if not CALIBRATION.is_dir():
        pytest.skip("the calibration world is not beside the project")
    crawl(warehouse, emulator([real_sample, CALIBRATION]))  # calibration's cards link real-sample's repos
    repos = {repo: (roles, host, ids, json.loads(evidence)) for repo, roles, host, ids, evidence in rows(
        warehouse, "SELECT repo, roles, host_licence, licence_ids, role_evidence FROM code_repos")}
    roles, host, ids, evidence = repos["github.com/allenai/olmo"]
    assert {"pretraining", "evaluation"} <= set(roles) and host == "Apache-2.0" and ids == ["apache-2.0"]
    assert any(e["role"] == "evaluation" and e["path"].startswith("evaluation/") for e in evidence)
    roles, host, ids, evidence = repos["github.com/stability-ai/stablelm"]
    assert roles == ["evaluation", "pretraining", "inference"] and ids == ["apache-2.0"]
    roles, host, ids, evidence = repos["github.com/facebookresearch/fairseq"]  # reached through GitHub's 301
    assert {"pretraining", "evaluation"} <= set(roles) and "alignment" not in roles and ids == ["mit"]
    for repo, (_, _, _, evidence) in repos.items():
        for e in evidence:  # README evidence is a verbatim line of the stored README (a long one's start)
            if e["source"] == "readme":
                text = rows(warehouse, "SELECT text FROM linked_documents WHERE target = ? AND path = ?",
                            [repo, e["path"]])[0][0]
                line = text.splitlines()[e["line_start"] - 1].strip()
                assert e["snippet"] and line.startswith(e["snippet"]) and (e["snippet"] == line or len(e["snippet"]) >= 300)


# -- the bundled sample ---------------------------------------------------------------------------

def test_sample_links_resolve_datasets_through_redirects_and_read_papers(sample_crawled):
    warehouse, result = sample_crawled  # the sample world crawled, once a session
    targets = {(k, t): (s, r, rid) for k, t, s, r, rid in rows(
        warehouse, "SELECT kind, target, status, reason, resolved_id FROM link_targets")}
    assert targets[("dataset", "webtext")] == ("resolved", "renamed", "openfield/webtext-clean")
    assert targets[("dataset", "openfield/code-mix")][0] == "resolved"
    assert targets[("dataset", "HuggingFaceH4/ultrafeedback_binarized")][:2] == ("failed", "not_found")
    assert targets[("base_model", "aurora-labs/aurora-7b")] == ("resolved", "in_warehouse", "aurora-labs/aurora-7b")
    assert targets[("code", "github.com/kestrel-ml/align-recipes")][:2] == ("failed", "not_found")
    licences = dict(rows(warehouse, "SELECT dataset_id, licence_ids FROM datasets"))
    assert licences["openfield/webtext-clean"] == ["odc-by"] and licences["quillwork/instruct-mix"] == ["cc-by-nc-4.0"]
    title, abstract, fetched = rows(warehouse, "SELECT title, abstract, fetched FROM papers")[0]
    assert fetched and title == "Aurora: an open 7B language model" and "data and code" in abstract
    assert result.targets_followed == len(targets) and result.targets_deferred == 0
    # the links view keeps the snippet that makes each link
    context = rows(warehouse, "SELECT context FROM links WHERE model_id = 'aurora-labs/aurora-7b' AND kind = 'paper'")
    assert context == [("Paper: https://arxiv.org/abs/2501.01234",)]


def test_second_crawl_follows_nothing_settled_recently(sample_crawled, sample_world, emulator, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)
    again = emulator(sample_world)
    result = crawl(warehouse, again)
    assert result.targets_followed == 0
    assert [r for r in request_log(again) if r["bucket"] in ("github", "web")] == []


def test_base_model_chains_are_followed_to_the_depth_limit(sample_world, emulator, warehouse, tmp_path):
    # Only the GGUF quantization is selected; its base model is crawled because it names it, and the
    # base model's own links (datasets, GitHub, paper) are one step further.
    shallow = str(tmp_path / "shallow.duckdb")
    crawl(shallow, emulator(sample_world), model_ids=["kestrel-ml/aurora-7b-GGUF"], follow_depth=1)
    assert {m for (m,) in rows(shallow, "SELECT model_id FROM models")} == {"kestrel-ml/aurora-7b-GGUF",
                                                                            "aurora-labs/aurora-7b"}
    assert rows(shallow, "SELECT count(*) FROM link_targets WHERE depth > 1") == [(0,)]
    assert rows(shallow, "SELECT DISTINCT status FROM links WHERE depth = 2") == [("pending",)]
    deep = crawl(warehouse, emulator(sample_world), model_ids=["kestrel-ml/aurora-7b-GGUF"], follow_depth=2)
    assert deep.base_models_stored == 1
    depth_of = dict(rows(warehouse, "SELECT target, depth FROM link_targets"))
    assert depth_of["aurora-labs/aurora-7b"] == 1 and depth_of["github.com/aurora-labs/aurora-train"] == 2
    assert rows(warehouse, "SELECT count(*) FROM code_repos") == [(1,)]


def test_robots_txt_is_obeyed_and_papers_can_be_left_unread(sample_world, emulator, warehouse, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    (world / "web" / "arxiv.org" / "robots.txt").write_text("User-agent: *\nDisallow: /abs/\n", "utf-8")
    server = emulator(world)
    crawl(warehouse, server, model_ids=["aurora-labs/aurora-7b"])
    assert rows(warehouse, "SELECT fetched, note FROM papers") == [(False, "robots.txt disallows it")]
    assert rows(warehouse, "SELECT status, reason FROM links WHERE kind = 'paper'") == [("resolved", "robots_disallowed")]
    web = [r["path"] for r in request_log(server) if r["bucket"] == "web"]
    assert web == ["/web/arxiv.org/robots.txt"]
    unread = str(tmp_path / "unread.duckdb")
    quiet = emulator(sample_world)
    crawl(unread, quiet, model_ids=["aurora-labs/aurora-7b"], fetch_papers=False)
    assert rows(unread, "SELECT paper_id, fetched FROM papers") == [("arxiv:2501.01234", False)]
    assert [r for r in request_log(quiet) if r["bucket"] == "web"] == []


def test_no_follow_makes_no_requests_beyond_the_models(sample_world, emulator, warehouse):
    server = emulator(sample_world)
    result = crawl(warehouse, server, follow_depth=0)
    assert result.targets_followed == 0 and {r["bucket"] for r in request_log(server)} <= {"api", "resolvers"}
    # the links are still recorded, as pending
    assert rows(warehouse, "SELECT DISTINCT status FROM links") == [("pending",)]


# -- one repo, many models ------------------------------------------------------------------------

REPOS = ("aurora-labs/aurora-train", "aurora-labs/aurora-align", "quillwork/recipes")


def linking_world(root: Path, sample: Path, models: int) -> Path:
    """`models` small models, each linking one of three GitHub repos the world holds."""
    for repo in REPOS:
        shutil.copytree(sample / "github" / repo, root / "github" / repo)
    for index in range(models):
        folder = root / "models" / f"org-{index % 50}" / f"model-{index:04d}"
        (folder / "files").mkdir(parents=True)
        repo = REPOS[index % len(REPOS)]
        (folder / "files" / "README.md").write_text(
            f"---\nlicense: mit\n---\n\n# model {index}\n\nTraining code: https://github.com/{repo}\n", "utf-8")
        (folder / "info.json").write_text(json.dumps({"id": f"org-{index % 50}/model-{index:04d}",
                                                      "cardData": {"license": "mit"}}), "utf-8")
    return root


def test_a_thousand_models_linking_three_repos_make_three_sets_of_github_requests(sample_world, emulator, warehouse,
                                                                                   tmp_path):
    server = emulator(linking_world(tmp_path / "world", sample_world, 1000))
    result = crawl(warehouse, server, fetch_file_sizes=False)
    assert result.models_seen == 1000 and result.targets_followed == 3
    per_repo = github_repo_requests(server)
    assert sorted(per_repo) == sorted(f"/api/v3/repos/{r}" for r in REPOS) and set(per_repo.values()) == {1}
    github = [r["path"] for r in request_log(server) if r["bucket"] == "github"]
    assert len(github) == len(set(github))  # and within each set, no request twice
    by_repo = Counter("/".join(p.split("/")[4:6]) for p in github)
    assert set(by_repo) == set(REPOS)
    assert rows(warehouse, "SELECT count(*), count(DISTINCT model_id) FROM links WHERE kind = 'code'") == [(1000, 1000)]
    assert rows(warehouse, "SELECT count(*) FROM code_repos") == [(3,)]


# -- GitHub's rate limit --------------------------------------------------------------------------

def test_github_rate_limit_defers_and_a_later_crawl_completes(sample_world, emulator, warehouse):
    # GitHub's anonymous kind of budget (a few requests an hour) and a crawl that waits at most a
    # second: the limit is spent within the first repos, and the rest is deferred to the reset.
    limited = emulator(sample_world, github_rate_limit="5/3600")
    first = crawl(warehouse, limited, settings={"GITHUB_MAX_WAIT": 1.0})
    assert first.status == "complete" and first.targets_deferred > 0
    deferred = rows(warehouse, "SELECT target, retry_after FROM link_targets WHERE status = 'deferred'")
    assert deferred and all(retry_after > datetime.utcnow() for _, retry_after in deferred)
    settled_first = {t for (t,) in rows(warehouse, "SELECT target FROM link_targets WHERE kind = 'code' "
                                                   "AND status <> 'deferred'")}
    assert len([r for r in request_log(limited) if r["bucket"] == "github" and r["status"] == 200]) <= 5
    # before the reset, a crawl asks nothing of what was deferred
    before = len(request_log(limited))
    assert crawl(warehouse, limited).targets_followed == 0
    assert [r for r in request_log(limited)[before:] if r["bucket"] == "github"] == []
    # an hour later (the warehouse's clock is moved back instead of waiting), the next crawl completes
    con = duckdb.connect(warehouse)
    con.execute("UPDATE link_targets SET retry_after = retry_after - INTERVAL 2 HOUR WHERE status = 'deferred'")
    con.close()
    later = emulator(sample_world)
    second = crawl(warehouse, later)
    assert second.targets_followed == len(deferred) and second.targets_deferred == 0
    assert rows(warehouse, "SELECT count(*) FROM link_targets WHERE status = 'deferred'") == [(0,)]
    statuses = dict(rows(warehouse, "SELECT target, status FROM link_targets WHERE kind = 'code' AND target IN "
                                    "(SELECT target FROM model_links WHERE relevance = 'own')"))
    assert sorted(statuses.values()) == ["failed", "failed", "resolved", "resolved", "resolved"]
    assert rows(warehouse, "SELECT count(*) FROM code_repos") == [(3,)]
    asked_again = {"/".join(r["path"].split("/")[4:6]).lower() for r in request_log(later) if r["bucket"] == "github"}
    assert asked_again and not {t.removeprefix("github.com/") for t in settled_first} & asked_again


def test_github_rate_limit_within_the_wait_is_waited_out(sample_world, emulator, warehouse):
    limited = emulator(sample_world, github_rate_limit="8/1")  # ~30 targets: own links, then guesses
    result = crawl(warehouse, limited, settings={"GITHUB_MAX_WAIT": 5.0})
    assert result.targets_deferred == 0
    assert rows(warehouse, "SELECT count(*) FROM code_repos") == [(3,)]
    github = [r for r in request_log(limited) if r["bucket"] == "github"]
    assert len({int(r["ts"]) for r in github}) >= 2  # spread over more than one window


@pytest.mark.parametrize("fault", ["error=0.3", "reset=0.2", "truncate=0.2", "html=0.2"])
def test_faults_on_followed_targets_leave_no_target_without_an_outcome(sample_world, emulator, warehouse, fault):
    server = emulator(sample_world, faults=f"{fault},seed=5")
    crawl(warehouse, server, settings={"RETRY_TIMES": 1})
    pending = rows(warehouse, "SELECT kind, target FROM links WHERE status = 'pending'")
    assert pending == []
    # a transient failure is tried again by the next crawl, and the outcome settles
    crawl(warehouse, emulator(sample_world))
    assert rows(warehouse, "SELECT count(*) FROM link_targets WHERE transient") == [(0,)]
    assert scalar(warehouse, "SELECT count(*) FROM code_repos WHERE NOT complete") == 0


def test_small_waves_settle_the_same_targets(sample_world, emulator, warehouse, tmp_path):
    whole = str(tmp_path / "whole.duckdb")
    crawl(whole, emulator(sample_world))
    crawl(warehouse, emulator(sample_world), settings={"FOLLOW_WAVE_SIZE": 2})
    outcome = "SELECT kind, target, status, reason, resolved_id, depth FROM link_targets ORDER BY ALL"
    assert rows(warehouse, outcome) == rows(whole, outcome) and len(rows(whole, outcome)) > 10


def test_pages_beyond_a_hosts_share_wait_for_the_next_crawl(sample_world, emulator, warehouse):
    crawl(warehouse, emulator(sample_world), model_ids=["aurora-labs/aurora-7b"], settings={"WEB_MAX_PAGES_PER_HOST": 0})
    assert rows(warehouse, "SELECT status, reason FROM links WHERE kind = 'paper'") == [("deferred", "politeness")]
    assert rows(warehouse, "SELECT fetched FROM papers") == [(False,)]
    later = crawl(warehouse, emulator(sample_world), model_ids=["aurora-labs/aurora-7b"])
    assert later.targets_followed == 1
    assert rows(warehouse, "SELECT status FROM links WHERE kind = 'paper'") == [("resolved",)]
    assert rows(warehouse, "SELECT fetched, title FROM papers") == [(True, "Aurora: an open 7B language model")]


def test_a_followed_repo_stored_incomplete_makes_the_crawl_partial_and_is_followed_again(sample_crawled, sample_world,
                                                                                          emulator, warehouse):
    """A repository whose tree could not be read leaves only an incomplete row: the audit cannot
    judge its code, so the crawl is not complete, and the next crawl follows it again however
    recently it was followed."""
    copy_warehouse(sample_crawled[0], warehouse)
    repo = "github.com/aurora-labs/aurora-train"
    with duckdb.connect(warehouse) as con:
        con.execute("UPDATE code_repos SET complete = false WHERE repo = ?", [repo])
        con.execute("UPDATE link_targets SET checked_at = now() WHERE target = ?", [repo])  # followed just now
    broken = emulator(sample_world, faults="error=1,only=/git/trees/")
    result = crawl(warehouse, broken, settings={"RETRY_TIMES": 0})
    assert any("aurora-train" in r["path"] for r in request_log(broken) if r["bucket"] == "github")  # followed again
    assert result.targets_left_incomplete >= 1 and result.status == "partial"
    calm = emulator(sample_world)
    again = crawl(warehouse, calm)
    assert again.status == "complete" and again.targets_left_incomplete == 0
    assert rows(warehouse, "SELECT bool_or(complete) FROM code_repos WHERE repo = ?", [repo]) == [(True,)]


def test_a_proxys_sign_in_page_in_place_of_a_paper_is_never_stored_as_the_paper(sample_world, emulator, warehouse):
    portal = emulator(sample_world, faults="html=1,only=/web/arxiv.org/abs/")
    crawl(warehouse, portal, model_ids=["aurora-labs/aurora-7b"])
    assert rows(warehouse, "SELECT count(*) FROM papers WHERE title ILIKE '%sign in%' OR fetched") == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM linked_documents WHERE text ILIKE '%sign in to the network%'") == [(0,)]
    assert rows(warehouse, "SELECT status, reason, transient FROM link_targets WHERE kind = 'paper'") == [
        ("failed", "unexpected_html", True)]
    crawl(warehouse, emulator(sample_world), model_ids=["aurora-labs/aurora-7b"])  # the next crawl reads it
    assert rows(warehouse, "SELECT title, fetched FROM papers") == [("Aurora: an open 7B language model", True)]
