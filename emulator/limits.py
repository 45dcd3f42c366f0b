"""Rate limiting and fault injection for the emulator, as pure, thread-safe decision makers."""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass


def parse_rate_limit(spec: str) -> tuple[int, float]:
    """'500/300' -> (500 requests, 300-second window)."""
    try:
        count, _, seconds = spec.partition("/")
        limit, window = int(count), float(seconds or 300)
    except ValueError:
        raise ValueError(f"rate limit must look like N/SECONDS, got {spec!r}") from None
    if limit < 1 or window <= 0:
        raise ValueError(f"rate limit must be positive, got {spec!r}")
    return limit, window


def parse_rate_limits(spec: str) -> dict[str | None, tuple[int, float]]:
    """'500/300' (every bucket) or 'api=500/1,resolvers=3000/1' (those buckets; others unlimited),
    as {bucket or None for every bucket: (limit, window)}."""
    if "=" not in spec:
        return {None: parse_rate_limit(spec)}
    limits = {}
    for part in spec.split(","):
        bucket, _, value = part.strip().partition("=")
        if not bucket or not value:
            raise ValueError(f"rate limits must look like api=N/SECONDS,resolvers=N/SECONDS, got {spec!r}")
        limits[bucket] = parse_rate_limit(value)
    return limits


def scaled_clock(time_scale: float):
    """A clock of the Hub's seconds, each `time_scale` real seconds long."""
    if time_scale == 1.0:
        return time.monotonic
    return lambda: time.monotonic() / time_scale


class FixedWindowLimiter:
    """The Hub's policy: a fixed window per bucket, counted from the server's start. limits:
    {bucket: (limit, window)}, None for every bucket not named; a bucket with no limit is unlimited."""

    def __init__(self, limits: dict[str | None, tuple[int, float]], clock=time.monotonic):
        self.limits, self._clock = limits, clock
        self._start = clock()
        self._counts: dict[tuple[str, int], int] = defaultdict(int)
        self._lock = threading.Lock()

    def limit_for(self, bucket: str) -> tuple[int, float] | None:
        return self.limits.get(bucket, self.limits.get(None))

    def admit(self, bucket: str) -> tuple[bool, int, int]:
        """Count a request; return (admitted, remaining, seconds until the window resets)."""
        policy = self.limit_for(bucket)
        if policy is None:
            return True, 10**9, 1
        limit, window = policy
        with self._lock:
            index, reset = self._window(window)
            used = self._counts[(bucket, index)]
            if used >= limit:
                return False, 0, reset
            self._counts[(bucket, index)] = used + 1
            return True, limit - used - 1, reset

    def peek(self, bucket: str) -> tuple[int, int]:
        """(remaining, seconds until reset) without counting a request."""
        policy = self.limit_for(bucket)
        if policy is None:
            return 10**9, 1
        with self._lock:
            index, reset = self._window(policy[1])
            return policy[0] - self._counts[(bucket, index)], reset

    def _window(self, window: float) -> tuple[int, int]:
        elapsed = self._clock() - self._start
        index = int(elapsed // window)
        return index, max(1, math.ceil((index + 1) * window - elapsed))

    def policy_header(self, bucket: str) -> str:
        limit, window = self.limit_for(bucket) or (10**9, 1)
        return f'"fixed window";"{bucket}";q={limit};w={int(window)}'


@dataclass(frozen=True)
class FaultSpec:
    latency: float = 0.0      # seconds added to every answer
    error: float = 0.0        # share of answers replaced by a 5xx
    reset: float = 0.0        # share of connections closed before any answer
    truncate: float = 0.0     # share of bodies cut short of their Content-Length
    html: float = 0.0         # share of answers replaced by a proxy's HTML error page, status 200
    seed: int = 0
    only: str = ""            # faults only for request targets (path and query) containing this text

    @classmethod
    def parse(cls, spec: str | None) -> "FaultSpec":
        """'latency=0.05,error=0.1,reset=0.05,truncate=0.05,html=0.05,seed=3,only=/datasets/'."""
        if not spec:
            return cls()
        values: dict = {}
        for part in spec.split(","):
            key, sep, value = part.strip().partition("=")
            if not sep or key not in cls.__dataclass_fields__:
                raise ValueError(f"unknown fault {part!r}; known: latency, error, reset, truncate, html, seed, only")
            values[key] = int(value) if key == "seed" else value if key == "only" else float(value)
        for key in ("error", "reset", "truncate", "html"):
            if not 0 <= values.get(key, 0) <= 1:
                raise ValueError(f"fault rate {key} must be between 0 and 1")
        return cls(**values)


class FaultPlan:
    """Decides each request's fault from a hash of (seed, request, attempt number), so the same
    crawl meets the same faults whatever the order its threads run in."""

    def __init__(self, spec: FaultSpec):
        self.spec = spec
        self._attempts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def decide(self, method: str, target: str) -> str | None:
        spec = self.spec
        if not (spec.error or spec.reset or spec.truncate or spec.html) or spec.only not in target:
            return None
        key = f"{method} {target}"
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] = attempt + 1
        draw = _unit(f"{spec.seed}|{key}|{attempt}")
        for fault, rate in (("reset", spec.reset), ("error", spec.error), ("truncate", spec.truncate),
                            ("html", spec.html)):
            if draw < rate:
                return fault
            draw -= rate
        return None


def _unit(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64
