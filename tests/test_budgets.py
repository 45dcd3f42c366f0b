"""The crawler's rate budget and the emulator's fixed windows, as pure objects with a fake clock."""
from __future__ import annotations

import random

import pytest

from openness.crawler.budget import SlidingBudget, bucket_of, rate_limit_wait
from openness.emulator.limits import FaultSpec, FixedWindowLimiter, parse_rate_limit, parse_rate_limits


def test_sliding_budget_never_exceeds_the_limit_in_any_fixed_window():
    budget = SlidingBudget(limit=50, window=10.0)
    now, sent = 0.0, []
    rng = random.Random(1)
    while len(sent) < 500:
        wait = budget.delay(now)
        if wait > 0:
            now += wait
            continue
        budget.take(now)
        sent.append(now)
        now += rng.random() * 0.05
    for offset in (0.0, 3.3, 7.7):  # wherever the server's windows start
        windows: dict[int, int] = {}
        for t in sent:
            windows[int((t + offset) // 10)] = windows.get(int((t + offset) // 10), 0) + 1
        assert max(windows.values()) <= 50
    assert sent[-1] < 110  # and it uses the budget: ~50 per 10 s


@pytest.mark.parametrize("url,bucket", [
    ("https://h/api/models?x=1", "api"), ("https://h/org/m/resolve/main/README.md", "resolvers"),
    ("https://h/datasets/org/d/resolve/abc/LICENSE", "resolvers"), ("https://h/org/m", "pages"),
])
def test_bucket_of(url, bucket):
    assert bucket_of(url) == bucket


@pytest.mark.parametrize("headers,expected", [
    ({"RateLimit": '"api";r=0;t=55'}, 56.0),
    ({"RateLimit": '"api";r=3;t=55', "Retry-After": "7"}, 8.0),
    ({"Retry-After": "12"}, 13.0),
    ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 2.0),
    ({}, 2.0),
])
def test_rate_limit_wait(headers, expected):
    assert rate_limit_wait(headers, 2.0) == expected


def test_fixed_window_limiter_counts_per_bucket_and_resets():
    clock = [100.0]
    limiter = FixedWindowLimiter({None: (2, 10)}, clock=lambda: clock[0])
    assert limiter.admit("api")[:2] == (True, 1)
    assert limiter.admit("api")[:2] == (True, 0)
    admitted, remaining, reset = limiter.admit("api")
    assert (admitted, remaining, reset) == (False, 0, 10)
    assert limiter.admit("resolvers")[0]
    clock[0] += 10
    assert limiter.admit("api")[0]


def test_limits_per_named_bucket_leave_the_others_unlimited():
    limiter = FixedWindowLimiter(parse_rate_limits("api=1/1,resolvers=3/1"), clock=lambda: 0.0)
    assert limiter.admit("api")[0] and not limiter.admit("api")[0]
    assert [limiter.admit("resolvers")[0] for _ in range(4)] == [True, True, True, False]
    assert all(limiter.admit("pages")[0] for _ in range(100))
    assert limiter.policy_header("resolvers") == '"fixed window";"resolvers";q=3;w=1'


def test_specs_parse_or_fail_clearly():
    assert parse_rate_limit("500/300") == (500, 300.0)
    assert parse_rate_limits("500/300") == {None: (500, 300.0)}
    assert parse_rate_limits("api=500/1, resolvers=3000/1") == {"api": (500, 1.0), "resolvers": (3000, 1.0)}
    with pytest.raises(ValueError):
        parse_rate_limits("api=,resolvers=1/1")
    assert FaultSpec.parse("latency=0.1,error=0.2,seed=4") == FaultSpec(latency=0.1, error=0.2, seed=4)
    for bad in ("x/1", "0/1", "5/0"):
        with pytest.raises(ValueError):
            parse_rate_limit(bad)
    for bad in ("error=2", "boom=1", "error"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_progress_bar_reads_the_crawl_stats():
    import io

    from scrapy.settings import Settings
    from scrapy.statscollectors import MemoryStatsCollector

    from openness.crawler.progress import Progress, selection_total

    stats = MemoryStatsCollector(type("C", (), {"settings": Settings()})())
    stats.set_value("openness/models_seen", 12)
    stats.set_value("openness/models_new", 5)
    stats.set_value("openness/requests/api", 3)
    stream = io.StringIO()
    progress = Progress(stats, stream, total=20)
    progress.show()
    progress.closed(None)
    drawn = stream.getvalue()
    assert "crawl" in drawn and "12/25" in drawn and "steps" in drawn  # of the selection's 20, and 5 to fetch
    assert "5 new, 0 changed, 0 unchanged" in drawn and "requests api 3 resolvers 0" in drawn
    assert selection_total({"model_ids": ["a/b", "c/d"]}) == 2 and selection_total({"limit": 50}) == 50
    assert selection_total({"authors": ["x"]}) is None  # a listing's length is not known in advance


def test_the_bar_stands_short_of_its_end_while_files_are_fetched_and_links_followed():
    from openness.crawler.progress import steps
    listed = {"openness/models_seen": 31, "openness/models_new": 31}
    assert steps(listed.get) == (31, 62)  # listing done in a second; the fetches are the work left
    fetched = {**listed, "openness/models_staged": 31, "openness/targets_followed": 38}
    assert steps(fetched.get) == (62, 100)  # the models stored; the links found are followed next
    settled = {**fetched, "openness/targets_resolved": 11, "openness/targets_failed": 27}
    assert steps(settled.get) == (100, 100)
    unchanged = {"openness/models_seen": 31, "openness/models_unchanged": 31}
    assert steps(unchanged.get) == (31, 31)  # a nightly crawl of an unchanged Hub: listing is the work
    assert steps({"openness/models_seen": 2}.get, 20) == (2, 20)  # of a selection's 20

def test_a_time_scale_runs_the_hubs_windows_in_a_share_of_real_time():
    """HUB_TIME_SCALE (tests of pacing logic): the emulator's windows and the crawl's budget both
    count the Hub's seconds, each `scale` real seconds long."""
    import time

    from openness.crawler.middlewares import RateBudgetMiddleware
    from openness.emulator.limits import scaled_clock
    limiter = FixedWindowLimiter({None: (1, 2.0)}, clock=scaled_clock(0.05))
    admitted, _, reset = limiter.admit("api")
    assert admitted and not limiter.admit("api")[0] and reset in (1, 2)  # the Hub's seconds, as headers say
    time.sleep(0.11)  # two of the Hub's seconds
    assert limiter.admit("api")[0]
    middleware = RateBudgetMiddleware({"api": (1, 2.0)}, 1, 0.01, 1.0, None, time_scale=0.05)
    assert abs(middleware.clock() - time.monotonic() / 0.05) < 1.0 and middleware.time_scale == 0.05
    assert RateBudgetMiddleware({}, 1, 0.01, 1.0, None).clock is time.monotonic  # the real Hub's: unscaled
