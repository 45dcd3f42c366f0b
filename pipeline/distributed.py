"""A crawl spread over several worker processes (on this machine, or on others that share the
staging folder and reach the same Redis): one lister, N workers, one loader.

The frontier lives in Redis (scrapy-redis's RedisMixin reads it), so the workers need nothing but
Redis, the Hub and the staging folder; the warehouse is read by the lister (to skip unchanged
models) and written by this process only, which loads every staged batch when the workers are done.
Links are then followed in one more process, as a single-process crawl follows them: the frontier of
link targets is the warehouse's.
"""
from __future__ import annotations

import signal
from contextlib import ExitStack

from openness.crawler.shared_budget import budget_prefix, seed
from openness.pipeline.child import Child
from openness.pipeline.errors import CrawlError
from openness.warehouse.load import load_staged
from openness.warehouse.staging import staging_dir

STATS_MAX = ("openness/peak_rss_mb",)


def run_distributed(config, warehouse: str, run_id: str, settings: dict) -> tuple[int, dict]:
    """(exit code, merged stats) of a lister and config.workers workers, then the follow step."""
    import redis  # an optional dependency: pip install 'openness[distributed]'

    from openness.crawler.spiders.distributed import listed_key

    server = redis.Redis.from_url(config.redis_url)
    try:
        server.ping()
    except redis.RedisError as exc:
        raise CrawlError(f"cannot reach Redis at {_safe_url(config.redis_url)}: {exc}") from exc
    _clear(server, run_id)
    # the processes take from one budget in Redis and pace to the quota any of them learns (or the
    # one given): each learning the whole quota alone would let N of them spend N times what the
    # token may, and fixed shares would waste what an idle one leaves
    prefix = budget_prefix(run_id)
    seed(server, prefix, settings["HUB_RATE_BUDGET"])
    # the workers read every card from its repo: a frontier unit carries no card read from a dump
    shared = {**settings, "REDIS_URL": config.redis_url, "FOLLOW_MAX_DEPTH": 0, "HUB_RATE_BUDGET_SHARED": prefix,
              "CRAWL_BOOTSTRAP": "off"}
    selection = config.selection()
    try:
        with ExitStack() as stack:
            workers = [stack.enter_context(Child(
                {**shared, "REDIS_START_URLS_AS_SET": True, "OPENNESS_WORKERS": config.workers,
                 "OPENNESS_LOAD_STAGED": False, "OPENNESS_BATCH_TAG": f"w{i}."}, selection, warehouse, "worker"))
                for i in range(1, config.workers + 1)]
            lister = stack.enter_context(Child(shared, selection, warehouse, "lister"))
            outcomes = _wait_all([lister] + workers, server, listed_key(run_id))
        load_staged(warehouse, staging_dir(warehouse), memory_limit_mb=config.load_memory_mb())
        if config.follow_depth > 0 and all(code == 0 for code, _ in outcomes):
            with Child({**settings, "OPENNESS_RUN_ID": run_id}, {**selection, "follow_only": True}, warehouse) as child:
                outcomes.append(child.wait())
    finally:
        _clear(server, run_id)
    return max(code for code, _ in outcomes), merge_stats([stats for _, stats in outcomes])


def _wait_all(children, server, listed: str) -> list[tuple[int, dict]]:
    """Wait for the lister (first), flag the listing as ended, then wait for the workers. One
    interrupt (Ctrl-C, SIGTERM) stops them all gracefully: each stages what it holds."""
    outcomes = []
    for index, child in enumerate(children):
        while True:
            try:
                outcomes.append(child.wait())
                break
            except KeyboardInterrupt:
                for other in children[index:]:
                    if other.process.poll() is None:
                        other.process.send_signal(signal.SIGTERM)
        if index == 0:
            server.set(listed, "1")
    return outcomes


def _clear(server, run_id: str) -> None:
    """The run's keys: its frontier and flags, and its shared budget."""
    from openness.crawler.spiders.distributed import run_keys
    server.delete(*run_keys(run_id), *server.scan_iter(f"{budget_prefix(run_id)}:*"))


def merge_stats(stats: list[dict]) -> dict:
    """One crawl's stats from its processes': counts add up, peaks take the highest, and the crawl
    finished only if every process did."""
    merged: dict = {}
    for one in stats:
        for key, value in one.items():
            if key == "finish_reason":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] = max(merged.get(key, 0), value) if key in STATS_MAX else merged.get(key, 0) + value
    _merge_budgets(merged, stats)
    reasons = [one.get("finish_reason") for one in stats]
    merged["finish_reason"] = next((r for r in reasons if r != "finished"), "finished") if stats else None
    return merged


def _merge_budgets(merged: dict, stats: list[dict]) -> None:
    """The budget each bucket was paced to: the processes share one, so the one a process learned
    from the server, else the one they started from."""
    sources = [(key.removeprefix("openness/budget_source/"), one) for one in stats for key in one
               if key.startswith("openness/budget_source/")]
    for bucket, one in sorted(sources, key=lambda item: item[1][f"openness/budget_source/{item[0]}"] != "server"):
        if f"openness/budget/{bucket}" not in merged:
            merged[f"openness/budget/{bucket}"] = one.get(f"openness/budget/{bucket}")
            merged[f"openness/budget_source/{bucket}"] = one[f"openness/budget_source/{bucket}"]


def _safe_url(url: str) -> str:
    """A Redis URL without its password, for messages."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return url if parts.password is None else url.replace(f":{parts.password}@", ":***@")
