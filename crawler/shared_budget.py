"""One rate budget for every process of a distributed crawl, kept in Redis.

The Hub counts requests per token (or address), not per process: N workers each pacing to the
whole quota would spend N times what the token may, and a fixed share each wastes what an idle one
leaves. So the processes take from one sliding window per bucket, in Redis: a request goes out
only when fewer than the quota were sent by any of them in the last window. The quota itself is
shared too: what one process learns from the Hub's RateLimit-Policy (or the budget the user gave)
is what all of them pace to. Times are Redis's own clock, so processes on several machines agree.
"""
from __future__ import annotations

import logging
import uuid

from openness.crawler.budget import MIN_MARGIN_SECONDS, SlidingBudget

logger = logging.getLogger(__name__)

# One atomic step: drop what left the window, then take a place if one is free, else say how long
# until the oldest request leaves it. KEYS: the bucket's sent requests (a sorted set by time), the
# quotas (a hash bucket -> "quota/window"). ARGV: bucket, margin, a unique member.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local policy = redis.call('HGET', KEYS[2], ARGV[1])
if not policy then return '-1' end
local slash = string.find(policy, '/', 1, true)
local limit, window = tonumber(string.sub(policy, 1, slash - 1)), tonumber(string.sub(policy, slash + 1))
local margin = tonumber(ARGV[2])
if margin > 0 then window = window + math.max(window * margin, tonumber(ARGV[4])) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('EXPIRE', KEYS[1], math.ceil(window) + 60)
    return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


def _redis_errors() -> tuple:
    import redis
    return (redis.RedisError, OSError)


def budget_prefix(run_id: str) -> str:
    """Where a run's shared budget lives in Redis (removed with the run's other keys)."""
    return f"openness:{run_id}:budget"


def seed(server, prefix: str, budgets: dict) -> None:
    """Set the quotas the processes start from: the user's, or the assumed one until a process
    learns the server's."""
    if budgets:
        server.hset(f"{prefix}:quota", mapping={b: f"{int(q)}/{float(w):g}" for b, (q, w) in budgets.items()})


def shared_budgets(redis_url: str, prefix: str, margin: float):
    """The middleware's budget factory for a process of a distributed crawl."""
    import redis  # an optional dependency: only a distributed crawl shares its budget
    server = redis.Redis.from_url(redis_url)
    return lambda bucket, limit, window: SharedBudget(server, prefix, bucket, limit, window, margin)


class SharedBudget(SlidingBudget):
    """A bucket's budget that every process of the run takes from. What the server last said
    remains (RateLimit) is still kept per process, as the server tells each of them."""

    def __init__(self, server, prefix: str, bucket: str, limit: int, window: float, margin: float = 0.0):
        super().__init__(limit, window, margin)  # the quota it starts from, unless the run has one
        self.server, self.bucket = server, bucket
        self.keys = [f"{prefix}:sent:{bucket}", f"{prefix}:quota"]
        self.script = server.register_script(_TAKE)
        self.member = uuid.uuid4().hex[:12]
        self.taken = 0
        self.alone = False  # Redis could not be read: pacing to this process's own window meanwhile
        self.redis_errors = _redis_errors()
        server.hsetnx(self.keys[1], bucket, f"{int(limit)}/{float(window):g}")  # a bucket no process knew yet

    def resize(self, limit: int, window: float) -> None:
        """A quota learned from the server: every process paces to it from its next request on."""
        super().resize(limit, window)
        if hasattr(self, "keys"):  # not the first one, which SlidingBudget's constructor sets
            self.server.hset(self.keys[1], self.bucket, f"{int(limit)}/{float(window):g}")

    def acquire(self, now: float) -> float:
        if (held := self.server_wait(now)) > 0:
            return held
        self.taken += 1
        try:
            wait = float(self.script(keys=self.keys, args=[self.bucket, self.margin, f"{self.member}:{self.taken}",
                                                           MIN_MARGIN_SECONDS]))
        except self.redis_errors as exc:
            if not self.alone:
                logger.warning("the shared rate budget in Redis cannot be read (%s): this process paces alone "
                               "to %s/%g s until it can", exc, self.quota, self.quota_window)
            self.alone = True
            return super().acquire(now)
        self.alone = False
        if wait < 0:  # the quota was removed (the run's keys cleared): pace alone
            return super().acquire(now)
        if wait <= 0:
            self.count_at_server(now)
        return wait
