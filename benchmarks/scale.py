"""Scale benchmark: a Hub-sized crawl under the Hub's anonymous rate budget, time-compressed.

    python benchmarks/scale.py --models 200000 --window 15 [--file-sizes] [--naive-models 5000] [--keep DIR]

Writes a synthetic world (benchmarks/synthetic.py: cards of a few lines to tens of KB, 10% with a
LICENSE file, 5% gated), serves it with the emulator's rate limit set to the anonymous budget
(api 500, resolvers 3,000 per window) in windows of --window seconds instead of 300, and crawls it
with the same budget. Reports models/s, requests per model, the share of the binding bucket's
budget used, 429s (answered and unanswered), the crawl process's RSS sampled along the crawl, a
second unchanged crawl, the naive huggingface_hub loop on a slice under the same limit, and a
projection of a whole-Hub crawl (~2M models) at the anonymous, free and enterprise budgets.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from benchmarks.harvest import naive, serve  # noqa: E402
from benchmarks.synthetic import write_world  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402
from openness.crawler.settings import HUB_BUDGETS  # noqa: E402

HUB_MODELS = 2_000_000
HUB_WINDOW = 300


class RssSampler(threading.Thread):
    """Samples the RSS of the crawl process (`python -m pipeline.child`) every `every` seconds."""

    def __init__(self, every: float = 0.5):
        super().__init__(daemon=True)
        self.every, self.samples, self.stopped = every, [], threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            rss = sum(_rss_mb(pid) for pid in _crawl_pids())
            if rss:
                self.samples.append((round(time.monotonic() - self.started_at, 1), rss))

    def summary(self) -> dict:
        """RSS at each quarter of the crawl: flat means the last quarter is no higher than the first."""
        if not self.samples:
            return {}
        end = self.samples[-1][0]
        quarters = {}
        for share in (0.25, 0.5, 0.75, 1.0):
            upto = [rss for t, rss in self.samples if t <= end * share]
            quarters[f"{int(share * 100)}%"] = round(max(upto or [0]), 1)
        peak_at, peak = max(self.samples, key=lambda s: s[1])
        return {"max_mb_by_progress": quarters, "peak_mb": round(peak, 1),
                "peak_at_share_of_crawl": round(peak_at / end, 3), "samples": len(self.samples)}


def _crawl_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"openness.pipeline.child" in cmdline:
                pids.append(int(entry))
    return pids


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def read_log(path: Path, since: int = 0) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle][since:]


def budget_use(log: list[dict], budget: dict[str, tuple[int, float]]) -> dict:
    """Per bucket: requests, 429s, and the share of the budget the crawl's span allowed."""
    out = {}
    for bucket, (limit, window) in budget.items():
        stamps = [e["ts"] for e in log if e["bucket"] == bucket]
        if len(stamps) < 2:
            continue
        first = min(stamps)
        span = max(stamps) - first
        allowed = limit * max(1.0, span / window)
        per_window: dict[int, int] = {}
        for stamp in stamps:
            index = int((stamp - first) // window)
            per_window[index] = per_window.get(index, 0) + 1
        inner = sorted(n / limit for i, n in per_window.items() if 0 < i < max(per_window))  # whole windows
        out[bucket] = {"requests": len(stamps), "answered_429": sum(1 for e in log if e["bucket"] == bucket and e["status"] == 429),
                       "span_s": round(span, 1), "share_of_budget": round(len(stamps) / allowed, 3),
                       "median_window_share": round(inner[len(inner) // 2], 3) if inner else None}
    return out


def projection(per_model: dict[str, float], listing_per_model: float) -> dict:
    """Hours for a first crawl of the whole Hub, and for a nightly re-crawl of it unchanged
    (listing pages only), at each tier's budget."""
    out = {}
    for tier in ("anonymous", "free", "enterprise"):
        budget = HUB_BUDGETS[tier]
        first = max(HUB_MODELS * per_model.get(b, 0) / (limit / window) for b, (limit, window) in budget.items())
        unchanged = HUB_MODELS * listing_per_model / (budget["api"][0] / budget["api"][1])
        out[tier] = {"first_crawl_hours": round(first / 3600, 1), "unchanged_recrawl_minutes": round(unchanged / 60, 1)}
    return out


def crawl(endpoint: str, warehouse: Path, budget: dict, file_sizes: bool) -> tuple[dict, dict]:
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    result = run_crawl(CrawlConfig(warehouse=str(warehouse), endpoint=endpoint, use_token=False, rate_budget=budget,
                                   fetch_file_sizes=file_sizes, follow_depth=0, settings={"CONCURRENT_REQUESTS": 32}))
    seconds = time.perf_counter() - started
    sampler.stopped.set()
    return ({"seconds": round(seconds, 1), "status": result.status, "models": result.models_seen,
             "models_per_s": round(result.models_seen / seconds, 1), "requests": result.requests,
             "responses_429_seen_by_crawler": result.responses_429,
             "unanswered_429": result.failures.get("rate_limited", 0), "failures": result.failures,
             "peak_rss_mb": result.peak_rss_mb}, sampler.summary())


def measure(models: int, window: float, file_sizes: bool, naive_models: int, work: Path) -> dict:
    world = work / "world"
    report: dict = {"models_in_world": models, "window_s": window, "file_sizes": file_sizes}
    started = time.perf_counter()
    if not (world / "models").is_dir():
        write_world(world, models)
    report["world_written_s"] = round(time.perf_counter() - started, 1)
    anonymous = {b: (limit, window) for b, (limit, _) in HUB_BUDGETS["anonymous"].items()}
    limit_spec = ",".join(f"{b}={limit}/{seconds:g}" for b, (limit, seconds) in anonymous.items())
    warehouse = work / "scale.duckdb"

    saved = work / "report.json"  # each phase's figures, so a failure later costs no crawl again
    if saved.exists():
        report.update({k: v for k, v in json.loads(saved.read_text()).items() if k in ("crawl", "crawl_rss",
                                                                                        "unchanged_recrawl")})
    if "unchanged_recrawl" not in report:
        for stale in (warehouse, Path(f"{warehouse}.wal"), work / "crawl.log"):
            stale.unlink(missing_ok=True)
        crawl_phase(report, world, work, warehouse, anonymous, limit_spec, file_sizes)
        saved.write_text(json.dumps(report, indent=2))
    crawled = report["crawl"]["models"]
    naive_phase(report, world, work, warehouse, limit_spec, naive_models)
    report["speedup_vs_naive"] = round(report["crawl"]["models_per_s"] / report["naive"]["models_per_s"], 2)
    listing_per_model = report["unchanged_recrawl"]["listing_requests"] / max(1, crawled)
    report["whole_hub_projection"] = {
        "openness": projection(report["crawl"]["requests_per_model"], listing_per_model),
        "naive": projection(report["naive"]["requests_per_model"], 1.0)}
    saved.write_text(json.dumps(report, indent=2))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200_000)
    parser.add_argument("--window", type=float, default=1.0, help="seconds standing in for the Hub's 300-second window")
    parser.add_argument("--file-sizes", action="store_true", help="fetch each model's file tree (one api request)")
    parser.add_argument("--naive-models", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="openness-scale-"))
    print(json.dumps(measure(args.models, args.window, args.file_sizes, args.naive_models, work), indent=2))


def crawl_phase(report: dict, world: Path, work: Path, warehouse: Path, anonymous: dict, limit_spec: str,
                file_sizes: bool) -> None:
    process, endpoint = serve(world, work / "crawl.log", ["--rate-limit", limit_spec])
    try:
        report["crawl"], report["crawl_rss"] = crawl(endpoint, warehouse, anonymous, file_sizes)
        log = read_log(work / "crawl.log")
        models = report["crawl"]["models"]
        report["crawl"]["requests_per_model"] = {b: round(sum(1 for e in log if e["bucket"] == b) / models, 4)
                                                 for b in ("api", "resolvers")}
        report["crawl"]["budget"] = budget_use(log, anonymous)
        again, _ = crawl(endpoint, warehouse, anonymous, file_sizes)
        second_log = read_log(work / "crawl.log", since=len(log))
        report["unchanged_recrawl"] = {"seconds": again["seconds"], "requests": again["requests"],
                                       "listing_requests": sum(1 for e in second_log if e["path"].startswith("/api/models?")),
                                       "other_requests": sum(1 for e in second_log if not e["path"].startswith("/api/models?"))}
    finally:
        process.terminate()
        process.wait()


def naive_phase(report: dict, world: Path, work: Path, warehouse: Path, limit_spec: str, how_many: int) -> None:
    import duckdb
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT model_id FROM models ORDER BY model_id LIMIT ?",
                                         [how_many]).fetchall()]
    (work / "naive.log").unlink(missing_ok=True)
    shutil.rmtree(work / "hf-cache", ignore_errors=True)
    # a world of just the slice (links to the models' folders): the emulator loads it in seconds
    slice_world = work / "naive-world"
    shutil.rmtree(slice_world, ignore_errors=True)
    for model_id in ids:
        (slice_world / "models" / model_id).parent.mkdir(parents=True, exist_ok=True)
        (slice_world / "models" / model_id).symlink_to(world / "models" / model_id)
    process, endpoint = serve(slice_world, work / "naive.log", ["--rate-limit", limit_spec])
    try:
        report["naive"] = naive(endpoint, ids, work / "hf-cache")
        naive_log = read_log(work / "naive.log")
        report["naive"]["requests_per_model"] = {b: round(sum(1 for e in naive_log if e["bucket"] == b) / len(ids), 4)
                                                 for b in ("api", "resolvers")}
        report["naive"]["answered_429"] = sum(1 for e in naive_log if e["status"] == 429)
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
