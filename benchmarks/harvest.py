"""Harvest benchmark: a synthetic world of N models, served by the emulator in its own process,
crawled by `openness crawl`, then the same selection fetched by a naive huggingface_hub loop; then
both again against an emulator that holds the Hub's bucket ratio (api 100, resolvers 600 per
20-second window) and says so only in its RateLimit-Policy headers, the crawl told no budget.

    python benchmarks/harvest.py --models 20000 [--naive-models N] [--ratio-models N] [--keep DIR]

Prints a JSON report (models/s, requests per model, peak RSS, the speed ratios, and at the Hub's
ratio: each bucket's share used, 429s answered and unanswered).
"""
from __future__ import annotations

import argparse
import json
import shutil
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from benchmarks.synthetic import write_world  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402

UNLIMITED = {"api": (10**9, 1), "resolvers": (10**9, 1)}
# The Hub's anonymous quotas (500 api / 3,000 resolvers per 300 s) in their ratio, on a short window.
HUB_RATIO = {"api": (100, 20.0), "resolvers": (600, 20.0)}


def serve(world: Path | list[Path], log: Path, options: list[str] = ()) -> tuple[subprocess.Popen, str]:
    """`openness world serve` of a world (or several, served as one) in its own process; its URL."""
    worlds = [str(w) for w in (world if isinstance(world, list) else [world])]
    process = subprocess.Popen([sys.executable, "-m", "openness", "world", "serve", *worlds, "--log-requests", str(log),
                                *options],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process, process.stdout.readline().strip()


def projection(per_model: dict[str, float]) -> dict[str, int]:
    """Models per hour each Hub tier's budget allows at these requests per model."""
    from openness.crawler.settings import HUB_BUDGETS
    out = {}
    for tier, budget in HUB_BUDGETS.items():
        rates = [limit / window / per_model[b] for b, (limit, window) in budget.items() if per_model.get(b)]
        out[tier] = int(min(rates) * 3600) if rates else 0
    return out


def per_model(requests: dict[str, int], models: int) -> dict[str, float]:
    return {b: round(n / models, 4) for b, n in requests.items() if b in ("api", "resolvers")}


def count_requests(log: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            bucket = json.loads(line)["bucket"]
            counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def crawl(endpoint: str, warehouse: Path, file_sizes: bool = True) -> dict:
    started = time.perf_counter()
    result = run_crawl(CrawlConfig(warehouse=str(warehouse), endpoint=endpoint, use_token=False,
                                   rate_budget=UNLIMITED, fetch_file_sizes=file_sizes, follow_depth=0,
                                   settings={"CONCURRENT_REQUESTS": 32}))
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "models": result.models_seen, "models_per_s": round(result.models_seen / seconds, 1),
            "requests": result.requests, "failures": result.failures,
            "peak_rss_mb": result.peak_rss_mb}


def naive(endpoint: str, model_ids: list[str], cache: Path) -> dict:
    """What people write by hand: model_info, then hf_hub_download of README and LICENSE per model,
    waiting out a 429 as its RateLimit header says (HfApi.model_info raises it rather than retry)."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, HfHubHTTPError
    from openness.crawler.budget import rate_limit_wait
    api = HfApi(endpoint=endpoint)
    started = time.perf_counter()
    for model_id in model_ids:
        while True:
            try:
                info = api.model_info(model_id)
                break
            except HfHubHTTPError as exc:
                if exc.response is None or exc.response.status_code != 429:
                    raise
                time.sleep(rate_limit_wait(exc.response.headers, 1.0))
        names = {s.rfilename for s in info.siblings or []}
        for name in ("README.md", "LICENSE"):
            if name in names:
                try:
                    hf_hub_download(model_id, name, endpoint=endpoint, cache_dir=cache)
                except (GatedRepoError, EntryNotFoundError):
                    pass
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "models": len(model_ids), "models_per_s": round(len(model_ids) / seconds, 1)}


def measure(models: int, naive_models: int | None, work: Path, ratio_models: int | None = None) -> dict:
    world = work / "world"
    started = time.perf_counter()
    if not (world / "models").is_dir():
        write_world(world, models)
    report = {"models_in_world": models, "world_written_s": round(time.perf_counter() - started, 1)}

    process, endpoint = serve(world, work / "crawl.log")
    try:
        report["crawl"] = crawl(endpoint, work / "bench.duckdb")
        requests = count_requests(work / "crawl.log")
        report["crawl"]["requests_per_model"] = per_model(requests, models)
        report["crawl"]["models_per_hour_at_hub_limits"] = projection(report["crawl"]["requests_per_model"])
        fast = crawl(endpoint, work / "bench-nosizes.duckdb", file_sizes=False)
        fast_requests = {b: n - requests.get(b, 0) for b, n in count_requests(work / "crawl.log").items()}
        fast["requests_per_model"] = per_model(fast_requests, models)
        fast["models_per_hour_at_hub_limits"] = projection(fast["requests_per_model"])
        report["crawl_without_file_sizes"] = fast

        second = time.perf_counter()
        rerun = run_crawl(CrawlConfig(warehouse=str(work / "bench.duckdb"), endpoint=endpoint, use_token=False,
                                      rate_budget=UNLIMITED, follow_depth=0))
        report["unchanged_recrawl"] = {"seconds": round(time.perf_counter() - second, 2), "requests": rerun.requests}
    finally:
        process.terminate()
        process.wait()

    import duckdb
    with duckdb.connect(str(work / "bench.duckdb"), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT model_id FROM models ORDER BY model_id").fetchall()]
    ids = ids[:naive_models] if naive_models else ids
    process, endpoint = serve(world, work / "naive.log")
    try:
        report["naive"] = naive(endpoint, ids, work / "hf-cache")
        requests = count_requests(work / "naive.log")
        report["naive"]["requests_per_model"] = per_model(requests, len(ids))
        report["naive"]["models_per_hour_at_hub_limits"] = projection(report["naive"]["requests_per_model"])
    finally:
        process.terminate()
        process.wait()
    report["speedup"] = round(report["crawl"]["models_per_s"] / report["naive"]["models_per_s"], 2)
    report["hub_limited_speedup"] = {
        mode: {tier: round(report[mode]["models_per_hour_at_hub_limits"][tier]
                           / report["naive"]["models_per_hour_at_hub_limits"][tier], 2)
               for tier in report["naive"]["models_per_hour_at_hub_limits"]}
        for mode in ("crawl", "crawl_without_file_sizes")}
    if ratio_models != 0:
        ratio_world = work / "ratio-world"  # the first models: the naive loop needs minutes at the Hub's pace
        if not (ratio_world / "models").is_dir():
            write_world(ratio_world, ratio_models or models)
        report["at_hub_ratio"] = at_hub_ratio(ratio_world, work, _ids(ratio_world))
    return report


def _ids(world: Path) -> list[str]:
    return sorted("/".join(p.parent.relative_to(world / "models").parts) for p in (world / "models").glob("*/*/info.json"))


def at_hub_ratio(world: Path, work: Path, model_ids: list[str]) -> dict:
    """The default crawl and the naive loop against the Hub's bucket ratio, the budget only in the
    server's headers; the crawl is told nothing."""
    spec = ",".join(f"{b}={q}/{w:g}" for b, (q, w) in HUB_RATIO.items())
    report = {"limits": spec}
    for name in ("crawl", "naive"):
        log = work / f"ratio-{name}.log"
        process, endpoint = serve(world, log, ["--rate-limit", spec])
        try:
            started, wall_start = time.perf_counter(), time.time()
            if name == "crawl":
                result = run_crawl(CrawlConfig(warehouse=str(work / "ratio.duckdb"), endpoint=endpoint, use_token=False,
                                               follow_depth=0, settings={"CONCURRENT_REQUESTS": 32}))
                extra = {"budget": result.budget, "unanswered_429": result.failures.get("rate_limited", 0),
                         "sizes_by": result.sizes_by, "sizes_pending_after": _pending(work / "ratio.duckdb")}
                seconds = time.perf_counter() - started
                extra["idle"] = idle_accounting(log, wall_start, wall_start + seconds)
                extra["recrawl"] = _recrawl(work / "ratio.duckdb", endpoint, log)
            else:
                naive(endpoint, model_ids, work / "hf-cache-ratio")
                extra = {}
                seconds = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait()
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        entries = entries[:extra["recrawl"].pop("log_from")] if "recrawl" in extra else entries
        share = {b: round(sum(1 for e in entries if e["bucket"] == b) / (q * seconds / w), 3)
                 for b, (q, w) in HUB_RATIO.items()}
        report[name] = {"seconds": round(seconds, 1), "models_per_s": round(len(model_ids) / seconds, 2),
                        "bucket_share_used": share, "answered_429": sum(1 for e in entries if e["status"] == 429),
                        **extra}
    report["speedup"] = round(report["crawl"]["models_per_s"] / report["naive"]["models_per_s"], 2)
    return report


def idle_accounting(log: Path, start: float, end: float) -> dict:
    """Where a crawl's time goes besides sending its binding bucket's requests at the pace the
    bucket allows: before the first one, waits past each window's edge, after the last one. The
    binding bucket is the one whose requests need the most windows; `paced_share` is the share of
    the crawl's time its fastest allowed pace needs (the windows before the last batch)."""
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    entries = [e for e in entries if start <= e["ts"] <= end]
    counts = {b: sum(1 for e in entries if e["bucket"] == b) for b in HUB_RATIO}
    binding = max(HUB_RATIO, key=lambda b: counts[b] / HUB_RATIO[b][0])
    quota, window = HUB_RATIO[binding]
    stamps = sorted(e["ts"] for e in entries if e["bucket"] == binding)
    if not stamps:
        return {}
    batches = -(-len(stamps) // quota)
    paced = (batches - 1) * window  # the last batch may go out as soon as the window before it ends
    return {"binding_bucket": binding, "requests": len(stamps), "windows_needed": batches,
            "seconds": round(end - start, 2), "paced_seconds": paced,
            "paced_share": round(paced / (end - start), 3) if end > start else None,
            "before_first_request_s": round(stamps[0] - start, 2),
            "first_to_last_request_s": round(stamps[-1] - stamps[0], 2),
            "after_last_request_s": round(end - stamps[-1], 2)}


def _pending(warehouse: Path) -> int:
    """Models whose weight sizes the crawl left for later."""
    import duckdb
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM latest_models WHERE sizes_pending > 0").fetchall()[0][0]


def _recrawl(warehouse: Path, endpoint: str, log: Path) -> dict:
    """The same selection again, unchanged: listing pages, and pending sizes from the idle bucket."""
    log_from = len(log.read_text(encoding="utf-8").splitlines())
    started = time.perf_counter()
    result = run_crawl(CrawlConfig(warehouse=str(warehouse), endpoint=endpoint, use_token=False, follow_depth=0,
                                   settings={"CONCURRENT_REQUESTS": 32}))
    return {"seconds": round(time.perf_counter() - started, 1), "requests": result.requests,
            "sizes_revisited": result.sizes_revisited, "sizes_pending_after": _pending(warehouse),
            "log_from": log_from}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20000)
    parser.add_argument("--naive-models", type=int, default=None, help="naive loop over the first N (default: all)")
    parser.add_argument("--ratio-models", type=int, default=1000,
                        help="models crawled at the Hub's bucket ratio (0: skip that part)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="openness-bench-"))
    try:
        print(json.dumps(measure(args.models, args.naive_models, work, args.ratio_models), indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
