"""The emulator's GitHub REST side (/api/v3): repos, license, git/trees, contents, rate limits."""
from __future__ import annotations

import base64
import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from conftest import request_log


def get(server, path: str):
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path, headers={"Accept": "application/vnd.github+json"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(body)


@pytest.fixture
def github(real_sample, emulator):
    return emulator(real_sample)


def test_repo_metadata_with_defaults_filled_in(github):
    status, headers, repo = get(github, "/api/v3/repos/allenai/OLMo")
    assert status == 200 and headers["x-github-media-type"].startswith("github.v3")
    assert repo["full_name"] == "allenai/OLMo" and repo["default_branch"] == "main"
    assert repo["license"]["spdx_id"] == "Apache-2.0" and repo["archived"] is False
    assert "_provenance" not in repo
    assert get(github, "/api/v3/repos/ALLENAI/olmo")[0] == 200  # GitHub names are case-insensitive


def test_license_endpoint_returns_the_file_and_the_detected_licence(github, real_sample):
    status, _, body = get(github, "/api/v3/repos/meta-llama/llama/license")
    assert status == 200 and body["path"] == "LICENSE" and body["encoding"] == "base64"
    text = base64.b64decode(body["content"]).decode()
    assert text == (real_sample / "github/meta-llama/llama/files/LICENSE").read_text()
    assert body["license"]["spdx_id"] == "NOASSERTION"
    _, _, apache = get(github, "/api/v3/repos/allenai/OLMo/license")
    assert apache["license"]["key"] == "apache-2.0" and apache["license"]["url"].endswith("/licenses/apache-2.0")


def test_recursive_tree_and_top_level_tree(github):
    status, _, tree = get(github, "/api/v3/repos/allenai/OLMo/git/trees/main?recursive=1")
    assert status == 200 and tree["truncated"] is False and len(tree["tree"]) > 1000
    paths = {e["path"] for e in tree["tree"]}
    assert "LICENSE" in paths and any("/" in p for p in paths)
    _, _, top = get(github, "/api/v3/repos/allenai/OLMo/git/trees/main")
    assert all("/" not in e["path"] for e in top["tree"]) and len(top["tree"]) < len(tree["tree"])
    assert get(github, f"/api/v3/repos/allenai/OLMo/git/trees/{tree['sha']}")[0] == 200
    assert get(github, "/api/v3/repos/allenai/OLMo/git/trees/no-such-branch")[0] == 404


def test_contents_files_directories_and_missing_blobs(github):
    status, _, readme = get(github, "/api/v3/repos/allenai/OLMo/contents/README.md")
    assert status == 200 and base64.b64decode(readme["content"]).startswith(b"<div")
    status, _, listing = get(github, "/api/v3/repos/allenai/OLMo/contents/olmo")
    assert status == 200 and isinstance(listing, list) and {e["type"] for e in listing} <= {"file", "dir"}
    status, headers, body = get(github, "/api/v3/repos/allenai/OLMo/contents/olmo/model.py")
    assert (status, headers.get("x-world-missing"), body["message"]) == (404, "1", "Not Found")
    assert get(github, "/api/v3/repos/allenai/OLMo/contents/no/such/path")[1].get("x-world-missing") is None


def test_missing_repo_is_githubs_404(github):
    status, _, body = get(github, "/api/v3/repos/nobody/nothing")
    assert status == 404 and body["message"] == "Not Found"


def test_rate_limit_headers_403_and_rate_limit_endpoint(real_sample, emulator):
    server = emulator(real_sample, rate_limit="3/60")
    answers = [get(server, "/api/v3/repos/allenai/OLMo") for _ in range(4)]
    assert [a[0] for a in answers] == [200, 200, 200, 403]
    assert [a[1]["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    reset = int(answers[3][1]["x-ratelimit-reset"])
    assert time.time() < reset <= time.time() + 61
    assert "rate limit exceeded" in answers[3][2]["message"]
    status, _, limits = get(server, "/api/v3/rate_limit")  # free of charge, as on GitHub
    assert status == 200 and limits["resources"]["core"]["remaining"] == 0 and limits["rate"]["limit"] == 3
    assert {r["bucket"] for r in request_log(server)} == {"github"}


def test_hub_and_github_buckets_are_counted_apart(real_sample, emulator):
    server = emulator(real_sample, rate_limit="2/60")
    assert [get(server, "/api/v3/repos/allenai/OLMo")[0] for _ in range(2)] == [200, 200]
    assert get(server, "/api/models/allenai/OLMo-7B")[0] == 200


def test_github_has_a_budget_of_its_own(real_sample, emulator):
    server = emulator(real_sample, rate_limit="100/60", github_rate_limit="2/3600")
    assert [get(server, "/api/v3/repos/allenai/OLMo")[0] for _ in range(3)] == [200, 200, 403]
    status, headers, _ = get(server, "/api/models/allenai/OLMo-7B")
    assert status == 200 and "x-ratelimit-remaining" not in headers
    assert get(server, "/api/v3/rate_limit")[2]["rate"]["limit"] == 2


def raw_get(server, path: str):
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), body


def test_web_folder_is_served_for_other_hosts(sample_world, emulator):
    server = emulator(sample_world)
    status, content_type, body = raw_get(server, "/web/arxiv.org/abs/2501.01234")
    assert status == 200 and content_type.startswith("text/html") and b"Aurora" in body
    assert raw_get(server, "/web/arxiv.org/abs/0000.00000")[0] == 404
    assert raw_get(server, "/web/arxiv.org/robots.txt")[0] == 404  # no robots.txt: everything allowed
    assert raw_get(server, "/web/arxiv.org/../../models/aurora-labs/aurora-7b/info.json")[0] == 404
    assert {r["bucket"] for r in request_log(server)} == {"web"}


def test_a_moved_repo_answers_301_to_its_id_as_github_does(emulator, tmp_path, real_sample):
    world = tmp_path / "world"
    world.mkdir()
    (world / "redirects.json").write_text(json.dumps({"github/old-name/llama": "github/meta-llama/llama"}), "utf-8")
    server = emulator([world, real_sample])
    status, headers, body = get(server, "/api/v3/repos/old-name/llama")
    assert status == 301 and body["message"] == "Moved Permanently" and headers["location"] == body["url"]
    moved = urlsplit(headers["location"]).path
    assert moved.startswith("/api/v3/repositories/")
    status, _, repo = get(server, moved)
    assert status == 200 and repo["full_name"] == "meta-llama/llama"
    status, headers, _ = get(server, "/api/v3/repos/old-name/llama/git/trees/main?recursive=1")
    assert status == 301 and headers["location"].endswith("/git/trees/main?recursive=1")
    status, _, tree = get(server, urlsplit(headers["location"]).path + "?recursive=1")
    assert status == 200 and any(e["path"] == "README.md" for e in tree["tree"])
    assert get(server, "/api/v3/repos/never/existed")[0] == 404


def test_a_conditional_request_for_an_unchanged_repo_is_a_304_that_costs_nothing(sample_world, emulator, tmp_path):
    """As GitHub: every answer carries an ETag; a GET that sends it back as If-None-Match gets a 304
    while nothing changed, and the rate limit's remaining count does not move."""
    import urllib.request
    server = emulator(sample_world, github_rate_limit="60/3600")
    url = f"{server.base_url}/api/v3/repos/aurora-labs/aurora-train"

    def get(headers=None):
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)
    status, first = get()
    assert status == 200 and first["ETag"].startswith('"')
    status, again = get({"If-None-Match": first["ETag"]})
    assert status == 304 and again["ETag"] == first["ETag"]
    assert again["X-RateLimit-Remaining"] == first["X-RateLimit-Remaining"]  # not spent
    status, other = get({"If-None-Match": '"something-else"'})
    assert status == 200 and int(other["X-RateLimit-Remaining"]) == int(first["X-RateLimit-Remaining"]) - 1
    restarted = emulator(sample_world)  # another port: the same repo keeps its ETag
    with urllib.request.urlopen(url.replace(server.base_url, restarted.base_url), timeout=10) as answer:
        assert answer.headers["ETag"] == first["ETag"]


def test_a_recrawl_asks_github_conditionally_and_keeps_what_it_stored(sample_crawled, sample_world, emulator, tmp_path):
    from conftest import copy_warehouse, request_log, rows, world_endpoints
    from openness.pipeline.runner import CrawlConfig, run_crawl
    warehouse = copy_warehouse(sample_crawled[0], str(tmp_path / "openness.duckdb"))
    stored = rows(warehouse, "SELECT repo, tree_sha, etag FROM code_repos ORDER BY ALL")
    assert stored and all(etag for _, _, etag in stored)
    server = emulator(sample_world)
    run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings={"WEB_DELAY": 0.0, "FOLLOW_RECHECK_DAYS": 0.0},
                          **world_endpoints(server)))
    repos = [r for r in request_log(server) if r["bucket"] == "github" and r["path"].count("/") == 5]
    assert repos and all(r["status"] in (304, 404, 301) for r in repos)
    assert sum(r["status"] == 304 for r in repos) == len(stored)
    assert rows(warehouse, "SELECT repo, tree_sha, etag FROM code_repos ORDER BY ALL") == stored
    assert rows(warehouse, "SELECT DISTINCT reason FROM link_targets WHERE kind = 'code' AND status = 'resolved' "
                           "AND target IN (SELECT repo FROM code_repos)") == [("unchanged",)]
