"""Downloader middlewares: the Hub token, and the per-bucket rate budget with 429 handling, learned
from the Hub's own RateLimit-Policy and RateLimit headers unless the user set it."""
from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urlsplit

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from openness.crawler.budget import (UNLIMITED_QUOTA, SlidingBudget, bucket_of, rate_limit_policies, rate_limit_state,
                                     rate_limit_wait)


class RateBudgetMiddleware:
    """Holds each request until its bucket's budget allows it; pauses a bucket on 429 for as long
    as the Hub says, then sends the request again. Unless the user set the budget, each answer's
    RateLimit-Policy replaces the assumed one, from the first answer on, and its RateLimit caps what
    is sent until the window resets. Counts requests per bucket, and the budget used, in the stats."""

    def __init__(self, budgets: dict, max_429_retries: int, backoff_base: float, backoff_max: float,
                 stats, clock=None, margin: float = 0.0, source: str = "given", make_budget=None,
                 time_scale: float = 1.0):
        self.margin = margin
        # the budget's seconds are the Hub's: a rate window of w seconds lasts w * time_scale real
        # seconds (1 against a real Hub; less against an emulator run at the same scale, in tests)
        self.time_scale = time_scale
        # make_budget(bucket, limit, window): a budget other processes share (shared_budget.py)
        self.make_budget = make_budget or (lambda bucket, limit, window: SlidingBudget(limit, window, margin))
        self.budgets = {bucket: self.make_budget(bucket, int(limit), float(window))
                        for bucket, (limit, window) in budgets.items()}
        self.learn = source != "given"  # what the user set is never overridden
        self.max_429_retries = max_429_retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.paused_until: dict[str, float] = {}
        self.in_flight: Counter[str] = Counter()  # sent, not answered yet
        self.stats = stats
        self.clock = clock or (time.monotonic if time_scale == 1.0 else lambda: time.monotonic() / time_scale)
        for bucket, (limit, window) in budgets.items():
            self._record(bucket, int(limit), float(window), source)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        margin = s.getfloat("HUB_RATE_WINDOW_MARGIN")
        make_budget = None
        if s.get("HUB_RATE_BUDGET_SHARED") and s.get("REDIS_URL"):  # a distributed crawl's processes
            from openness.crawler.shared_budget import shared_budgets
            make_budget = shared_budgets(s.get("REDIS_URL"), s.get("HUB_RATE_BUDGET_SHARED"), margin)
        middleware = cls(s.getdict("HUB_RATE_BUDGET"), s.getint("HUB_MAX_429_RETRIES"),
                         s.getfloat("RETRY_BACKOFF_BASE"), s.getfloat("RETRY_BACKOFF_MAX"), crawler.stats,
                         margin=margin, source=s.get("HUB_RATE_BUDGET_SOURCE"), make_budget=make_budget,
                         time_scale=s.getfloat("HUB_TIME_SCALE"))
        crawler.hub_budget = middleware  # the models spider asks it each bucket's rate
        return middleware

    def rate(self, bucket: str) -> float:
        """The bucket's requests per second (infinite without a budget)."""
        budget = self.budgets.get(bucket)
        return budget.quota / budget.quota_window if budget else float("inf")

    def window(self, bucket: str) -> float:
        """The bucket's window in seconds (0 without a budget): its quota can be spent at once."""
        budget = self.budgets.get(bucket)
        return budget.quota_window if budget else 0.0

    def count_outside(self, bucket: str, requests: int) -> None:
        """Requests another client of the crawl sent (huggingface_hub reading a card dump): they
        take their places in the bucket's window, and count in the stats."""
        budget = self.budgets.get(bucket)
        for _ in range(requests):
            if budget:
                budget.take(self.clock())
            self.stats.inc_value(f"openness/requests/{bucket}")

    def _learn(self, bucket: str, headers) -> None:
        for name, (quota, window) in rate_limit_policies(headers).items():
            budget = self.budgets.get(name)
            if quota >= UNLIMITED_QUOTA:
                if budget is not None:
                    del self.budgets[name]
                    self._record(name, None, window, "server")
            elif budget is None:
                self.budgets[name] = self.make_budget(name, quota, window)
                self._record(name, quota, window, "server")
            elif (budget.quota, budget.quota_window) != (quota, window):
                budget.resize(quota, window)
                self._record(name, quota, window, "server")
        state = rate_limit_state(headers)
        name = state and None not in state[1:] and (state[0] or bucket)
        if name in self.budgets:
            # the requests still in flight reach the server after this answer was counted
            self.budgets[name].sync(state[1] - self.in_flight[name], state[2], self.clock())

    def _record(self, bucket: str, quota: int | None, window: float, source: str) -> None:
        if self.stats is not None:
            self.stats.set_value(f"openness/budget/{bucket}", f"{quota}/{window:g}" if quota else "unlimited")
            self.stats.set_value(f"openness/budget_source/{bucket}", source)

    async def process_request(self, request, spider=None):
        if request.meta.get("service", "hub") != "hub":
            return None  # GitHub and web hosts have limits of their own
        bucket = bucket_of(request.url)
        retries = request.meta.get("retry_times", 0)
        if retries:
            await _sleep(min(self.backoff_base * 2 ** (retries - 1), self.backoff_max))
        while True:
            budget = self.budgets.get(bucket)  # looked up each time: an answer may have changed it
            now = self.clock()
            wait = self.paused_until.get(bucket, 0.0) - now
            if wait <= 0 and budget:
                wait = budget.acquire(now)  # takes its place when it returns 0
            if wait <= 0:
                break
            self.stats.inc_value(f"openness/budget_waits/{bucket}")
            await _sleep(wait * self.time_scale)
        self.in_flight[bucket] += 1
        request.meta["budget_bucket"] = bucket
        self.stats.inc_value(f"openness/requests/{bucket}")
        return None

    def process_exception(self, request, exception, spider=None):
        self._answered(request)

    def _answered(self, request) -> None:
        bucket = request.meta.pop("budget_bucket", None)
        if bucket is not None:
            self.in_flight[bucket] -= 1

    def process_response(self, request, response, spider=None):
        if request.meta.get("service", "hub") != "hub":
            return response
        bucket = bucket_of(request.url)
        self._answered(request)
        if self.learn:
            self._learn(bucket, response.headers)
        if response.status != 429:
            state = rate_limit_state(response.headers)
            if state and state[1] == 0:
                self._pause(bucket, rate_limit_wait(response.headers, 1.0))
            return response
        self.stats.inc_value(f"openness/429/{bucket}")
        attempts = request.meta.get("hub_429_retries", 0)
        self._pause(bucket, rate_limit_wait(response.headers, min(2 ** attempts, self.backoff_max)))
        if attempts >= self.max_429_retries:
            return response
        retry = request.replace(dont_filter=True)
        retry.meta["hub_429_retries"] = attempts + 1
        retry.meta.pop("retry_times", None)
        return retry

    def _pause(self, bucket: str, seconds: float) -> None:
        self.paused_until[bucket] = max(self.paused_until.get(bucket, 0.0), self.clock() + seconds)


async def _sleep(seconds: float) -> None:
    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class HubAuthMiddleware:
    """Sends the user's Hub token (HF_TOKEN or the huggingface_hub login) to the Hub's host only.
    The token is read here, in the crawl process, so it never passes through settings or logs."""

    def __init__(self, endpoint: str, use_token: bool):
        self.host = urlsplit(endpoint).netloc
        self.token = None
        if use_token:
            from huggingface_hub import get_token
            self.token = get_token()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("HUB_ENDPOINT"), crawler.settings.getbool("HUB_USE_TOKEN", True))

    def process_request(self, request, spider=None):
        hub = request.meta.get("service", "hub") == "hub"  # an emulator serves GitHub on the Hub's host
        if self.token and hub and urlsplit(request.url).netloc == self.host:
            request.headers.setdefault("Authorization", f"Bearer {self.token}")
        return None
