"""Harvest benchmark: a synthetic world of N models, served by the emulator in its own process,
crawled by `openness crawl`, then the same selection fetched by a naive huggingface_hub loop.

    python benchmarks/harvest.py --models 20000 [--naive-models N] [--keep DIR]

Prints a JSON report (models/s, requests per model, peak RSS) and the speed ratio.
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


def serve(world: Path, log: Path, options: list[str] = ()) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "openness", "world", "serve", str(world), "--log-requests", str(log),
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
    from openness.crawler.middlewares import rate_limit_wait
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


def measure(models: int, naive_models: int | None, work: Path) -> dict:
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
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20000)
    parser.add_argument("--naive-models", type=int, default=None, help="naive loop over the first N (default: all)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="openness-bench-"))
    try:
        print(json.dumps(measure(args.models, args.naive_models, work), indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
