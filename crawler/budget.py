"""The Hub's rate limits as data: which bucket a URL spends, what the RateLimit-Policy and
RateLimit headers say, and a sliding-window budget. Pure: no Scrapy, no event loop, so the
downloader middleware (middlewares.py) and the budget shared across processes
(shared_budget.py) both build on it without importing each other."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit


def bucket_of(url: str) -> str:
    """The Hub's rate-limit bucket for a URL: api, resolvers or pages."""
    path = urlsplit(url).path
    if path.startswith("/api/"):
        return "api"
    if "/resolve/" in path:
        return "resolvers"
    return "pages"


def rate_limit_wait(headers, fallback: float) -> float:
    """Seconds to wait after a 429: the RateLimit header's t (when r=0), else Retry-After."""
    state = rate_limit_state(headers)
    if state and state[2] is not None and state[1] in (None, 0):
        return state[2] + 1.0
    retry_after = _header(headers, "Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return int(retry_after.strip()) + 1.0
    return fallback


UNLIMITED_QUOTA = 10**8  # a policy this large is the server saying "no limit here"


def rate_limit_policies(headers) -> dict[str, tuple[int, float]]:
    """RateLimit-Policy, e.g. '"fixed window";"api";q=500;w=300' (several policies comma-separated),
    as {bucket: (quota, window seconds)}. A policy without a quota or a window is skipped."""
    policies = {}
    for item in (_header(headers, "RateLimit-Policy") or "").split(","):
        names = re.findall(r'"([^"]*)"', item)
        quota, window = re.search(r"\bq=(\d+)", item), re.search(r"\bw=(\d+(?:\.\d+)?)", item)
        if names and quota and window and float(window.group(1)) > 0:
            bucket = next((n for n in names if n in ("api", "resolvers", "pages")), names[-1])
            policies[bucket] = (int(quota.group(1)), float(window.group(1)))
    return policies


def rate_limit_state(headers) -> tuple[str | None, int | None, int | None] | None:
    """RateLimit, e.g. '"api";r=12;t=55': (bucket or None, requests remaining, seconds to reset),
    either of the two None when the header leaves it out; None without either."""
    value = _header(headers, "RateLimit") or ""
    remaining, reset = re.search(r"\br=(\d+)", value), re.search(r"\bt=(\d+)", value)
    if not (remaining or reset):
        return None
    name = re.search(r'"([^"]*)"', value)
    return ((name.group(1) if name else None), int(remaining.group(1)) if remaining else None,
            int(reset.group(1)) if reset else None)


def _header(headers, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


MIN_MARGIN_SECONDS = 0.25


class SlidingBudget:
    """At most `limit` requests in any `window` seconds, hence in any of the Hub's fixed windows,
    wherever the server's window boundaries lie. The window is widened by `margin` (a share), and by
    at least MIN_MARGIN_SECONDS, because the server counts arrivals, and a request that waited in a
    queue or in a busy event loop on the way arrives later than it left: that delay is a matter of
    milliseconds whatever the window's length."""

    def __init__(self, limit: int, window: float, margin: float = 0.0):
        self.margin = margin
        self.sent: deque[float] = deque()
        self.server_left, self.server_reset_at = None, 0.0  # what the server last said remains, until when
        self.resize(limit, window)

    def resize(self, limit: int, window: float) -> None:
        """A new quota (the server said so); the requests already sent still count."""
        widen = max(window * self.margin, MIN_MARGIN_SECONDS) if self.margin else 0.0
        self.quota, self.quota_window = limit, window
        self.limit, self.window = limit, window + widen

    def sync(self, remaining: int, reset: float, now: float) -> None:
        """The server counts requests we did not send (another process on the same token or
        address): never send more in its window than it says remain."""
        self.server_left, self.server_reset_at = remaining, now + reset

    def server_wait(self, now: float) -> float:
        """How long the server said nothing more may be sent (0: it did not)."""
        if self.server_left is not None and now < self.server_reset_at and self.server_left <= 0:
            return self.server_reset_at - now
        return 0.0

    def count_at_server(self, now: float) -> None:
        """One more request sent in the window the server told us about."""
        if self.server_left is not None and now < self.server_reset_at:
            self.server_left -= 1

    def delay(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        if (held := self.server_wait(now)) > 0:
            return held
        if len(self.sent) < self.limit:
            return 0.0
        return self.sent[0] + self.window - now

    def acquire(self, now: float) -> float:
        """Take a place now if there is one (0), else say how long until there is."""
        wait = self.delay(now)
        if wait <= 0:
            self.take(now)
        return wait

    def take(self, now: float) -> None:
        self.sent.append(now)
        self.count_at_server(now)
