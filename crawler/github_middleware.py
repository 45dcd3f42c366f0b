"""GitHub's REST API as a well-behaved client meets it: the token (GITHUB_TOKEN or GH_TOKEN, read
in the crawl process, sent to the API host only), the API's version headers, and its rate limits.
X-RateLimit-Remaining 0 or a 403/429 with Retry-After pauses every GitHub request until the reset;
a pause longer than GITHUB_MAX_WAIT is not waited out: the request is deferred (the target is
recorded as deferred with its retry time, and a later crawl takes it up)."""
from __future__ import annotations

import math
import os
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from openness.crawler import github
from openness.crawler.errors import Deferred
from openness.crawler.middlewares import _sleep

MAX_RATE_LIMIT_RETRIES = 3


class GitHubMiddleware:
    def __init__(self, api: str, max_wait: float, use_token: bool, stats, clock=time.time):
        self.host = urlsplit(api).netloc
        self.max_wait = max_wait
        self.token = (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None) if use_token else None
        self.stats = stats
        self.clock = clock
        self.blocked_until = 0.0  # wall-clock seconds: GitHub's reset times are epoch seconds

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("GITHUB_API"), s.getfloat("GITHUB_MAX_WAIT"), s.getbool("GITHUB_USE_TOKEN"), crawler.stats)

    async def process_request(self, request, spider=None):
        if request.meta.get("service") != "github":
            return None
        request.headers.setdefault("Accept", "application/vnd.github+json")
        request.headers.setdefault("X-GitHub-Api-Version", github.API_VERSION)
        if self.token and urlsplit(request.url).netloc == self.host:
            request.headers.setdefault("Authorization", f"Bearer {self.token}")
        wait = self.blocked_until - self.clock()
        if wait > 0:
            self._defer_if_long(wait)
            self.stats.inc_value("openness/budget_waits/github")
            await _sleep(wait)
        self.stats.inc_value("openness/requests/github")
        return None

    def process_response(self, request, response, spider=None):
        if request.meta.get("service") != "github":
            return response
        headers = {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        now = self.clock()
        wait = github.rate_limit_wait(response.status, headers, response.body, now)
        if wait is None:
            return response
        self.blocked_until = max(self.blocked_until, now + wait)
        if response.status not in (403, 429):
            return response  # the last request of the window: this answer is good, the next ones wait
        self.stats.inc_value("openness/429/github")
        attempts = request.meta.get("github_rate_retries", 0)
        if attempts >= MAX_RATE_LIMIT_RETRIES:
            raise Deferred("GitHub", _utc(self.blocked_until))
        self._defer_if_long(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["github_rate_retries"] = attempts + 1
        return retry

    def _defer_if_long(self, wait: float) -> None:
        if wait > self.max_wait:
            self.stats.inc_value("openness/deferred/github")
            raise Deferred("GitHub", _utc(self.clock() + wait))


def _utc(epoch: float) -> datetime:
    """Whole seconds, rounded up: never earlier than GitHub's reset."""
    return datetime.fromtimestamp(math.ceil(epoch), timezone.utc).replace(tzinfo=None)
