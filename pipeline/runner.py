"""run_crawl(config) -> CrawlResult: one crawl from the Hub into the warehouse.

Scrapy's reactor cannot be restarted within a process, so each crawl runs in a fresh child
process (pipeline/child.py); the parent keeps the run's bookkeeping, so a crawl that dies is still
recorded.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from openness.pipeline.child import Child
from openness.pipeline.config import CrawlConfig
from openness.pipeline.distributed import run_distributed
from openness.pipeline.errors import CrawlError, CrawlInterrupted
from openness.pipeline.reach import check_reachable, unreachable_followers
from openness.warehouse.db import check_whole
from openness.warehouse.links import failed_for_now, incomplete_targets
from openness.crawler.settings import HUB_BUDGETS
from openness.warehouse.load import load_staged
from openness.warehouse.runs import (crawl_lock, failures_by_reason, finish_run, incomplete_after, new_run_id,
                                     not_stored, start_run)
from openness.warehouse.staging import staging_dir


@dataclass
class CrawlResult:
    run_id: str
    status: str
    models_seen: int = 0
    models_new: int = 0
    models_changed: int = 0
    models_unchanged: int = 0
    models_retried: int = 0         # stored incomplete by an earlier crawl: the rest of their files fetched
    models_again: int = 0           # stored complete, fetched again whole (crawl --full)
    models_left_incomplete: int = 0  # of the models this crawl listed or reached, still incomplete after it
    models_not_stored: int = 0       # staged by this crawl, yet not in the warehouse after it (a batch lost)
    targets_left_incomplete: int = 0  # followed repos and datasets stored incomplete only (followed again next time)
    targets_failed_for_now: int = 0   # followed targets that failed for a passing reason (followed again next time)
    models_vanished: int = 0       # listed by the previous crawl of this selection, not by this one
    files_fetched: int = 0
    targets_followed: int = 0      # link targets (datasets, base models, code repos, papers) asked for
    targets_resolved: int = 0
    targets_failed: int = 0
    targets_deferred: int = 0      # rate limited until after the crawl: a later crawl takes them up
    base_models_stored: int = 0    # ancestors reached through base_model links, new or changed
    linked_files_fetched: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    responses_429: int = 0
    rows_loaded: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # of the crawl process
    interrupted_runs_found: int = 0
    budget: dict[str, str] = field(default_factory=dict)  # bucket -> "quota/window seconds (where it came from)"
    # changed models' weight sizes: read by tree or head, pending (left for later), none (no weights)
    sizes_by: dict[str, int] = field(default_factory=dict)
    sizes_revisited: int = 0  # unchanged models whose pending weight sizes this crawl read
    # followed services (github, web) whose host could not be reached: service -> what to do; the
    # links to them wait for the next crawl, which is why the crawl is partial
    unreachable: dict[str, str] = field(default_factory=dict)
    retries_given_up: int = 0  # requests that failed after all their retries (recorded, not printed)
    # the Hub's card dump (crawl --bootstrap): which one and whether it was used, or why not; cards
    # read from it; cards fetched from the repo because its row was older than the listing, or absent
    bootstrap: str | None = None
    cards_from_dump: int = 0
    cards_stale_in_dump: int = 0
    cards_not_in_dump: int = 0
    # licence files of new or changed models left for the next crawl (crawler/licence_files.py), and
    # unchanged models whose pending licence files this crawl read
    licence_files_deferred: int = 0
    licence_files_revisited: int = 0

    def counters(self) -> dict:
        data = asdict(self)
        data["failures"] = sum(self.failures.values())
        data["failures_by_reason"] = self.failures
        data["requests_api"] = self.requests.get("api", 0)
        data["requests_resolvers"] = self.requests.get("resolvers", 0)
        data["requests_github"] = self.requests.get("github", 0)
        return data


def run_crawl(config: CrawlConfig) -> CrawlResult:
    """Crawl, stage and load; returns the run's counts. Raises CrawlInterrupted (the crawl stopped
    early; what it loaded is kept) or CrawlError."""
    for name, url in (("Hub endpoint", config.endpoint), ("GitHub API", config.github_api), ("web base", config.web_base)):
        if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise CrawlError(f"the {name} must be an http(s) URL, got {url!r}")
    check_reachable(config.endpoint)
    unreachable = unreachable_followers(config)
    if unreachable:  # their links are recorded as unreachable at once, not retried host by host
        config = replace(config, settings={**config.settings, "FOLLOW_UNREACHABLE": unreachable})
    warehouse = str(Path(config.warehouse).resolve())
    load = partial(load_staged, warehouse, staging_dir(warehouse), memory_limit_mb=config.load_memory_mb())
    with crawl_lock(warehouse):
        check_whole(warehouse)  # a file cut short fails here, in one line, not half way through the crawl
        leftover = load()  # a killed crawl's staged batches
        run_id = new_run_id()
        interrupted = start_run(warehouse, run_id, config.endpoint, config.selection())
        started = time.monotonic()
        try:
            if config.redis_url:
                with _terminate_as_interrupt():
                    exitcode, stats = run_distributed(config, warehouse, run_id,
                                                      _crawl_settings(config, warehouse, run_id))
            else:
                exitcode, stats = _run_child(config, warehouse, run_id)
        except BaseException as exc:
            load()
            finish_run(warehouse, run_id, "failed", {"seconds": time.monotonic() - started}, str(exc))
            raise
        rows = load()
        result = _result(run_id, stats, time.monotonic() - started, rows + leftover, interrupted)
        result.failures = failures_by_reason(warehouse, run_id)
        result.models_left_incomplete = incomplete_after(warehouse, run_id)
        result.models_not_stored = not_stored(warehouse, run_id, int(stats.get("openness/models_staged", 0)),
                                              int(stats.get("openness/models_not_staged", 0)))
        result.targets_left_incomplete = incomplete_targets(warehouse, run_id)
        result.targets_failed_for_now = failed_for_now(warehouse, run_id)
        result.unreachable = {service: line for service, line in unreachable.items()
                              if int(stats.get(f"openness/unreachable/{service}", 0))}
        if ((result.models_left_incomplete or result.models_not_stored or result.targets_left_incomplete
             or result.targets_failed_for_now or result.unreachable) and result.status == "complete"):
            result.status = "partial"  # the next crawl fetches the rest
        if stats.get("finish_reason") == "shutdown" or (exitcode != 0 and stats):
            result.status = "interrupted"
        elif exitcode != 0:
            result.status = "failed"
        message = None if exitcode == 0 else _ended(exitcode, result)
        finish_run(warehouse, run_id, result.status, result.counters(), message)
        if result.status == "interrupted":
            raise CrawlInterrupted(message, result)
        if result.status == "failed":
            raise CrawlError(message)
        return result


def _ended(exitcode: int, result: CrawlResult) -> str:
    cause = f"signal {-exitcode}" if exitcode < 0 else f"exit code {exitcode}"
    return (f"the crawl stopped early ({cause}) after listing {result.models_seen} models; what it loaded is kept, "
            "and the next crawl completes the rest")


def _result(run_id: str, stats: dict, seconds: float, extra_rows: int, interrupted: int) -> CrawlResult:
    def value(key: str) -> int:
        return int(stats.get(f"openness/{key}", 0))
    # a listing page not read, or an item the pipeline failed on (its model is fetched again next time)
    status = "partial" if value("listing_failures") or value("item_errors") else "complete"
    return CrawlResult(
        run_id=run_id, status=status, models_seen=value("models_seen"), models_new=value("models_new"),
        models_changed=value("models_changed"), models_unchanged=value("models_unchanged"),
        models_retried=value("models_retried"), models_again=value("models_again"), models_vanished=value("models_vanished"), files_fetched=value("files_fetched"),
        targets_followed=value("targets_followed"), targets_resolved=value("targets_resolved"),
        targets_failed=value("targets_failed"), targets_deferred=value("targets_deferred"),
        linked_files_fetched=value("linked_files_fetched"),
        base_models_stored=sum(value(f"base_models_{s}") for s in ("new", "changed", "retried")),
        requests={b: value(f"requests/{b}") for b in ("api", "resolvers", "github")},
        responses_429=sum(value(f"429/{b}") for b in ("api", "resolvers", "github")),
        rows_loaded=value("rows_loaded") + extra_rows, seconds=round(seconds, 3),
        peak_rss_mb=float(stats.get("openness/peak_rss_mb", 0.0)),
        interrupted_runs_found=interrupted, budget=_budget_used(stats),
        sizes_by={how: value(f"sizes_by/{how}") for how in ("tree", "head", "pending", "none") if value(f"sizes_by/{how}")},
        sizes_revisited=value("sizes_revisited"), retries_given_up=value("retries_given_up"),
        bootstrap=stats.get("openness/bootstrap"), cards_from_dump=value("dump_cards_read"),
        cards_stale_in_dump=value("dump_cards_stale"), cards_not_in_dump=value("dump_cards_missing"),
        licence_files_deferred=value("licence_files_deferred"), licence_files_revisited=value("licence_files_revisited"))


def _budget_used(stats: dict) -> dict[str, str]:
    """The Hub budget each bucket was paced to at the end, and where it came from."""
    prefix = "openness/budget/"
    return {key[len(prefix):]: f"{value} ({stats.get('openness/budget_source/' + key[len(prefix):], 'given')})"
            for key, value in sorted(stats.items()) if key.startswith(prefix)}


def _crawl_settings(config: CrawlConfig, warehouse: str, run_id: str) -> dict:
    budget, source = config.rate_budget, "given"
    if budget is None:  # until the Hub's first answer says what it allows
        budget, source = HUB_BUDGETS["anonymous"], "assumed: anonymous"
        if config.use_token and _has_token():
            budget, source = HUB_BUDGETS["free"], "assumed: a free account's, as a token was found"
    settings = {"HUB_ENDPOINT": config.endpoint, "HUB_RATE_BUDGET": budget, "HUB_RATE_BUDGET_SOURCE": source,
                "HUB_USE_TOKEN": config.use_token,
                "CRAWL_FETCH_FILE_SIZES": config.fetch_file_sizes, "CRAWL_SIZES_NOW": config.sizes_now,
                "CRAWL_BOOTSTRAP": config.bootstrap, "CRAWL_LICENCE_FILES": config.licence_files,
                "OPENNESS_WAREHOUSE": warehouse,
                "OPENNESS_RUN_ID": run_id, "FOLLOW_MAX_DEPTH": config.follow_depth, "GITHUB_API": config.github_api,
                "GITHUB_USE_TOKEN": config.use_token, "WEB_BASE": config.web_base,
                "FOLLOW_PAPERS": config.fetch_papers}
    settings.update(config.settings)
    return settings


def _has_token() -> bool:
    from huggingface_hub import get_token
    return get_token() is not None


def _run_child(config: CrawlConfig, warehouse: str, run_id: str) -> tuple[int, dict]:
    """Run the crawl process; (exit code, its stats). An interrupt here stops the child gracefully:
    Scrapy closes the spider, and the pipeline stages and loads what is buffered."""
    with Child(_crawl_settings(config, warehouse, run_id), config.selection(), warehouse) as child:
        with _terminate_as_interrupt():
            return child.wait()


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM to the parent (systemd, kill) stops the crawl like Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
