"""The Hub says what it allows in every answer (RateLimit-Policy: quota and window per bucket;
RateLimit: what remains until the window resets). A crawl not told a budget paces each bucket to
what the server says from its first answer on, follows a change mid-crawl, and says which budget it
used and where it came from; a budget the user gave is kept as given."""
from __future__ import annotations

import threading

import pytest

from conftest import request_log, world_endpoints
from openness.crawler.budget import rate_limit_policies, rate_limit_state
from openness.crawler.middlewares import RateBudgetMiddleware
from openness.pipeline.runner import CrawlConfig, run_crawl
from tests.conftest import FakeStats


@pytest.mark.parametrize("header,expected", [
    ('"fixed window";"api";q=500;w=300', {"api": (500, 300.0)}),
    ('"fixed window";"api";q=1000;w=10, "fixed window";"resolvers";q=6000;w=10',
     {"api": (1000, 10.0), "resolvers": (6000, 10.0)}),
    ('"default";q=100;w=60', {"default": (100, 60.0)}),
    ('"fixed window";"api";q=500', {}),          # no window: not a policy we can pace to
    ('"fixed window";"api";q=5;w=0', {}),
    ("garbage", {}),
])
def test_rate_limit_policy_header(header, expected):
    assert rate_limit_policies({"RateLimit-Policy": header}) == expected


def test_rate_limit_header():
    assert rate_limit_state({"RateLimit": '"api";r=12;t=55'}) == ("api", 12, 55)
    assert rate_limit_state({"RateLimit": "r=0;t=3"}) == (None, 0, 3)
    assert rate_limit_state({"RateLimit": '"api";r=x'}) is None
    assert rate_limit_state({"RateLimit": '"api";t=9'}) == ("api", None, 9)


class Answer:
    def __init__(self, headers, status=200):
        self.headers, self.status = headers, status


class Asked:
    url = "https://hub.example/api/models/org/m"
    meta: dict = {}


def middleware(source, clock):
    return RateBudgetMiddleware({"api": (500, 300), "resolvers": (3000, 300)}, 3, 0.01, 1.0, FakeStats(),
                                clock=lambda: clock[0], source=source)


def test_an_assumed_budget_is_replaced_by_the_servers_and_a_given_one_is_kept():
    clock = [0.0]
    learning, keeping = middleware("assumed: anonymous", clock), middleware("given", clock)
    answer = Answer({"RateLimit-Policy": '"fixed window";"api";q=1000;w=10', "RateLimit": '"api";r=999;t=10'})
    for mw in (learning, keeping):
        mw.process_response(Asked(), answer)
    assert (learning.budgets["api"].quota, learning.budgets["api"].quota_window) == (1000, 10.0)
    assert learning.stats.values["openness/budget/api"] == "1000/10"
    assert learning.stats.values["openness/budget_source/api"] == "server"
    assert learning.stats.values["openness/budget_source/resolvers"] == "assumed: anonymous"
    assert (keeping.budgets["api"].quota, keeping.budgets["api"].quota_window) == (500, 300.0)
    # the server's "no limit" removes the pacing of that bucket
    learning.process_response(Asked(), Answer({"RateLimit-Policy": '"fixed window";"api";q=1000000000;w=1'}))
    assert "api" not in learning.budgets and learning.stats.values["openness/budget/api"] == "unlimited"


def test_what_the_server_says_remains_caps_the_window():
    """Another process on the same token spent most of the window: send no more than remains."""
    clock = [0.0]
    mw = middleware("assumed: anonymous", clock)
    mw.process_response(Asked(), Answer({"RateLimit-Policy": '"fixed window";"api";q=100;w=10',
                                         "RateLimit": '"api";r=2;t=10'}))
    budget = mw.budgets["api"]
    sent = 0
    while budget.delay(clock[0]) == 0:
        budget.take(clock[0])
        sent += 1
    assert sent == 2 and budget.delay(clock[0]) == pytest.approx(10.0)


def crawl(warehouse, server, **options):
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False,
                                 settings={"RETRY_BACKOFF_BASE": 0.01, "WEB_DELAY": 0.0,
                                           "HUB_TIME_SCALE": server.time_scale},
                                 **{**world_endpoints(server), **options}))


@pytest.mark.wallclock
def test_a_crawl_not_told_a_budget_paces_to_the_servers_and_says_so(sample_world, emulator, warehouse):
    # faster than the anonymous budget assumed at first (500 per 300 s), slower than no limit
    server = emulator(sample_world, rate_limit="api=30/2,resolvers=60/2")
    result = crawl(warehouse, server)
    assert result.status == "complete" and result.models_seen == 31
    assert result.budget["api"] == "30/2 (server)" and result.budget["resolvers"] == "60/2 (server)"
    assert "rate_limited" not in result.failures
    log = request_log(server)
    for bucket, quota in (("api", 30), ("resolvers", 60)):
        times = sorted(r["ts"] for r in log if r["bucket"] == bucket)
        assert len(times) <= quota * ((times[-1] - times[0]) / 2 + 1)


def test_a_budget_given_on_the_command_line_is_kept(sample_world, emulator, warehouse):
    server = emulator(sample_world, rate_limit="api=30/2,resolvers=60/2", time_scale=0.2)
    result = crawl(warehouse, server, rate_budget={"api": (100, 1), "resolvers": (100, 1)})
    assert result.budget == {"api": "100/1 (given)", "resolvers": "100/1 (given)"}


@pytest.mark.wallclock
def test_a_budget_that_changes_mid_crawl_is_followed(sample_world, emulator, warehouse):
    """The server halves the api quota once the crawl has made ten api requests: the crawl paces to
    the new quota from the next answers on, and every 429 met at the switch is waited out."""
    server = emulator(sample_world, rate_limit="api=40/2,resolvers=80/2")
    limiter = server.limiter
    stop = threading.Event()

    def lower_the_quota():
        while not stop.is_set():
            if sum(count for (bucket, _), count in list(limiter._counts.items()) if bucket == "api") >= 10:
                limiter.limits["api"] = (8, 2.0)
                return
            stop.wait(0.01)
    watcher = threading.Thread(target=lower_the_quota, daemon=True)
    watcher.start()
    try:
        result = crawl(warehouse, server)
    finally:
        stop.set()
        watcher.join()
    assert limiter.limits["api"] == (8, 2.0), "the crawl ended before the quota changed"
    assert result.status == "complete" and result.budget["api"] == "8/2 (server)"
    assert "rate_limited" not in result.failures  # any 429 met at the switch was retried
    after = sorted(r["ts"] for r in request_log(server)[20:] if r["bucket"] == "api" and r["status"] != 429)
    assert len(after) <= 8 * ((after[-1] - after[0]) / 2 + 1)
