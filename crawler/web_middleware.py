"""Politeness towards web hosts (papers' pages): at most one request per host at a time, spaced by
WEB_DELAY seconds or the host's robots.txt Crawl-delay, whichever is longer."""
from __future__ import annotations

import time

from openness.crawler.middlewares import _sleep

MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more is honoured at this spacing


class WebPolitenessMiddleware:
    def __init__(self, delay: float, clock=time.monotonic):
        self.delay = delay
        self.clock = clock
        self.next_free: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("WEB_DELAY"))

    async def process_request(self, request, spider=None):
        host = request.meta.get("web_host")
        if request.meta.get("service") != "web" or not host:
            return None
        spacing = max(self.delay, min(float(request.meta.get("crawl_delay") or 0.0), MAX_CRAWL_DELAY))
        now = self.clock()
        start = max(now, self.next_free.get(host, 0.0))
        self.next_free[host] = start + spacing  # reserved before waiting, so concurrent requests queue up
        if start > now:
            await _sleep(start - now)
        return None
