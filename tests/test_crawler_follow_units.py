"""The pure pieces of following links: GitHub's URLs, payloads and rate-limit rules, web pages and
robots.txt, which links a finding makes, and the politeness and GitHub middlewares' decisions."""
from __future__ import annotations

import asyncio
import base64

import pytest
from scrapy import Request
from scrapy.http import Response

from openness.crawler import github, web
from openness.crawler.errors import Deferred, reason_for_exception
from openness.crawler.github_middleware import GitHubMiddleware
from openness.extractors import Evidence, Finding
from openness.extractors.links import links_from, unfollowable


class Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


@pytest.mark.parametrize("status,headers,body,expected", [
    (403, {"retry-after": "30"}, b"", 30.0),                                            # secondary limit
    (429, {"retry-after": "5", "x-ratelimit-remaining": "10"}, b"", 5.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, b"", 101.0),     # primary limit
    (200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}, b"", 11.0),      # the last one allowed
    (403, {}, b'{"message": "You have exceeded a secondary rate limit."}', 60.0),         # neither header
    (403, {"x-ratelimit-remaining": "42"}, b'{"message": "Repository access blocked"}', None),
    (200, {"x-ratelimit-remaining": "41", "x-ratelimit-reset": "1100"}, b"", None),
    (404, {}, b"", None),
])
def test_github_rate_limit_rules(status, headers, body, expected):
    assert github.rate_limit_wait(status, headers, body, now=1000.0) == expected


def test_github_urls_and_payloads():
    api = "https://ghe.example/api/v3/"
    assert github.repo_url(api, "a/b") == "https://ghe.example/api/v3/repos/a/b"
    assert github.tree_url(api, "a/b", "main") == "https://ghe.example/api/v3/repos/a/b/git/trees/main?recursive=1"
    assert github.contents_url(api, "a/b", "docs/READ ME.md", "dev") == \
        "https://ghe.example/api/v3/repos/a/b/contents/docs/READ%20ME.md?ref=dev"
    fields = github.repo_fields({"full_name": "a/b", "pushed_at": "2025-01-02T03:04:05+02:00", "topics": ["x", 3],
                                 "license": {"spdx_id": "MIT"}, "default_branch": None})
    assert fields["pushed_at"].isoformat() == "2025-01-02T01:04:05" and fields["topics"] == ["x"]
    assert fields["host_licence"] == "MIT" and fields["default_branch"] == "HEAD"
    assert github.repo_fields({"license": None, "pushed_at": "not a date"})["pushed_at"] is None
    assert github.tree_blobs({"sha": "t", "tree": [{"path": "a.py", "type": "blob"}, {"path": "d", "type": "tree"},
                                                   "junk"], "truncated": True}) == ("t", ["a.py"], True)
    with pytest.raises(ValueError):
        github.tree_blobs({"message": "Not Found"})
    assert github.file_content({"encoding": "base64", "content": base64.encodebytes(b"hi\n").decode()}) == b"hi\n"
    with pytest.raises(ValueError):
        github.file_content({"encoding": "base64", "content": "!!!"})
    assert github.wanted_files(["README.md", "README.rst", "LICENSE", "docs/LICENSE", "requirements.txt", "x.py",
                                "COPYING", "NOTICE", "LICENSE-MIT"]) == \
        ["README.md", "COPYING", "LICENSE", "LICENSE-MIT", "requirements.txt"]
    # model licence files are read wherever they sit (a project's folder in a monorepo), nearest first
    assert github.wanted_files(["README.md", "LICENSE", "projects/Kite/MODEL_LICENSE.md", "a/b/c/WEIGHTS_LICENSE",
                                "projects/Kite/LICENSE", "src/x.py"]) == \
        ["README.md", "LICENSE", "projects/Kite/MODEL_LICENSE.md", "a/b/c/WEIGHTS_LICENSE"]


def test_web_urls_robots_and_paper_pages():
    assert web.web_url("https://arxiv.org/abs/1234.5678?x=1", "http://emu:1/web/") == "http://emu:1/web/arxiv.org/abs/1234.5678?x=1"
    assert web.web_url("https://arxiv.org/abs/1", None) == "https://arxiv.org/abs/1"
    assert web.robots_url("https://arxiv.org/abs/1") == "https://arxiv.org/robots.txt"
    robots = web.Robots("User-agent: *\nDisallow: /pdf/\nCrawl-delay: 15\n")
    assert robots.allowed("https://arxiv.org/abs/1") and not robots.allowed("https://arxiv.org/pdf/1")
    assert robots.delay() == 15
    assert web.Robots(None).allowed("https://x/anything") and web.Robots(None).delay() is None
    page = ('<html><head><meta name="citation_title" content="Deep &amp; Wide" />'
            '<title>[2401.00001] Deep &amp; Wide</title></head><body>'
            '<blockquote class="abstract"><span>Abstract:</span> We  study\n things.</blockquote></body></html>')
    assert web.paper_fields(page) == {"title": "Deep & Wide", "abstract": "We study things."}
    assert web.paper_fields("<html><title>[2401.1] Plain</title><blockquote>Abstract: So.</blockquote></html>") == {
        "title": "Plain", "abstract": "So."}
    # a page with neither citation tags nor an abstract is no paper's (a proxy's sign-in page, say)
    assert web.paper_fields("<html><title>[2401.1] Plain</title></html>") is None
    assert web.paper_fields("no html at all") is None
    from openness.emulator.server import PROXY_PAGE
    assert web.paper_fields(PROXY_PAGE.decode()) is None


def evidence(snippet="line"):
    return (Evidence("u", "README.md", 3, 3, snippet, "x", "1"),)


def test_links_from_findings():
    findings = [
        Finding("m", "s", "data.card_datasets", [{"id": "EleutherAI/pile"}, {"id": "the_pile"}, {"id": 7}], 1.0, evidence()),
        Finding("m", "s", "weights.base_model", {"ids": ["org/base", "org/base"]}, 1.0, evidence()),
        Finding("m", "s", "code.link", {"host": "github.com", "repo": "Org/Repo", "url": "https://github.com/Org/Repo"},
                0.8, evidence("see https://github.com/Org/Repo")),
        Finding("m", "s", "code.link", {"host": "gitlab.com", "repo": "a/b"}, 0.6, evidence()),
        Finding("m", "s", "paper.arxiv", {"id": "2304.01373", "url": "https://arxiv.org/abs/2304.01373"}, 1.0, evidence()),
        Finding("m", "s", "licence.declared", [], 1.0, evidence()),
        Finding("m", "s", "weights.base_model", {"ids": ["x"]}, 1.0, ()),
    ]
    links = [(l.kind, l.target) for l in links_from(findings)]
    assert links == [("dataset", "EleutherAI/pile"), ("dataset", "the_pile"), ("base_model", "org/base"),
                     ("code", "github.com/org/repo"), ("code", "gitlab.com/a/b"), ("paper", "arxiv:2304.01373")]
    assert links_from(findings)[3].evidence.snippet == "see https://github.com/Org/Repo"
    assert unfollowable("code", "gitlab.com/a/b") == "unsupported_host"
    assert unfollowable("code", "github.com/org/repo") is None
    assert unfollowable("dataset", "the_pile") is None and unfollowable("dataset", "EleutherAI/pile") is None
    for bad in ("https://huggingface.co/datasets/x", "a/b/c", "../etc", "has space", ""):
        assert unfollowable("base_model", bad) == "invalid_id", bad


def response(request, status=200, headers=None, body=b""):
    return Response(request.url, status=status, headers=headers or {}, body=body, request=request)


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


def test_github_middleware_defers_a_long_limit_and_sends_its_token_to_the_api_only(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    clock = [1000.0]
    middleware = GitHubMiddleware("https://api.github.com", max_wait=60.0, use_token=True, stats=Stats(),
                                  clock=lambda: clock[0])
    request = Request("https://api.github.com/repos/a/b", meta={"service": "github"})
    assert run(middleware.process_request(request)) is None
    assert request.headers["Authorization"] == b"Bearer ghp_secret"
    assert request.headers["X-GitHub-Api-Version"] == github.API_VERSION.encode()
    elsewhere = Request("https://evil.example/repos/a/b", meta={"service": "github"})
    run(middleware.process_request(elsewhere))
    assert b"Authorization" not in elsewhere.headers
    hub = Request("https://huggingface.co/api/models", meta={})
    run(middleware.process_request(hub))
    assert b"Authorization" not in hub.headers
    # the primary limit, an hour away: the retry is refused at once, and so is every later request
    limited = response(request, 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4600"})
    with pytest.raises(Deferred) as deferred:
        middleware.process_response(request, limited)
    assert deferred.value.retry_at.timestamp() > 0 and "rate limit spent until" in str(deferred.value)
    with pytest.raises(Deferred):
        run(middleware.process_request(Request("https://api.github.com/repos/c/d", meta={"service": "github"})))
    assert reason_for_exception(deferred.value).reason == "rate_limited"
    # a short secondary limit is retried, not deferred
    clock[0] = 5000.0
    short = response(request, 429, {"Retry-After": "3"})
    retry = middleware.process_response(request, short)
    assert isinstance(retry, Request) and retry.meta["github_rate_retries"] == 1


def test_a_run_with_items_the_pipeline_failed_on_is_partial():
    from openness.pipeline.runner import _result
    assert _result("r", {"openness/models_seen": 3}, 1.0, 0, 0).status == "complete"
    assert _result("r", {"openness/models_seen": 3, "openness/item_errors": 1}, 1.0, 0, 0).status == "partial"
    assert _result("r", {"openness/listing_failures": 1}, 1.0, 0, 0).status == "partial"
