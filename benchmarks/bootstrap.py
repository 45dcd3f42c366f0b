"""Bootstrap benchmark: a first crawl with and without the Hub's card dump, side by side.

    python benchmarks/bootstrap.py --models 100000 --window 20 [--stale 0.02] [--classify] [--keep DIR]
                                   [--crawls per_model,bootstrap,deferred]

Writes a synthetic world (benchmarks/synthetic.py: 10% of repos with a LICENSE file, 5% gated) and
its card dump (`openness world dump-cards`, --stale of the rows older than the world), serves both
with the emulator at the Hub's anonymous budget (api 500, resolvers 3,000 a window) in windows of
--window seconds instead of 300, and crawls the world into fresh warehouses, side by side: every
card from its repo (per_model: `--bootstrap off`), from the dump with licence files read at once
(bootstrap: `--licence-files now`), and from the dump with licence files read from spare capacity
only (deferred: the default), followed by the next crawl, which reads the licence files the first
left pending. Each crawl gets the same budget, and reads no weight sizes (a first crawl of the Hub
reads them from spare capacity only, so what it must ask is cards and licence files). Reports
seconds, models/s, requests per bucket and per model, the share of each bucket's budget used, and a
projection of a first crawl of the whole Hub (~2M models) at the anonymous, free, PRO and
Enterprise budgets. With --classify the warehouses are classified and their cells compared with the
per-model crawl's (the test at a tiny size always does).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from benchmarks.harvest import serve  # noqa: E402
from benchmarks.scale import budget_use, read_log  # noqa: E402
from benchmarks.synthetic import write_world  # noqa: E402
from openness.crawler.settings import HUB_BUDGETS  # noqa: E402
from openness.emulator.card_dump import DEFAULT_DATASET, write_card_dump  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402

HUB_MODELS = 2_000_000
TIERS = ("anonymous", "free", "pro", "enterprise")


# name: (--bootstrap, --licence-files) of a first crawl into a fresh warehouse
CRAWLS = {"per_model": ("off", "now"), "bootstrap": (DEFAULT_DATASET, "now"), "deferred": (DEFAULT_DATASET, "auto")}


def crawl(endpoint: str, warehouse: Path, budget: dict, bootstrap: str, cache: Path, licence_files: str = "auto") -> dict:
    started = time.perf_counter()
    result = run_crawl(CrawlConfig(warehouse=str(warehouse), endpoint=endpoint, use_token=False, rate_budget=budget,
                                   follow_depth=0, bootstrap=bootstrap, fetch_file_sizes=False,
                                   licence_files=licence_files,
                                   settings={"CONCURRENT_REQUESTS": 32, "CRAWL_BOOTSTRAP_CACHE": str(cache)}))
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "status": result.status, "models": result.models_seen,
            "models_per_s": round(result.models_seen / seconds, 1), "files_fetched": result.files_fetched,
            "cards_from_dump": result.cards_from_dump, "cards_stale_in_dump": result.cards_stale_in_dump,
            "cards_not_in_dump": result.cards_not_in_dump, "bootstrap": result.bootstrap,
            "sizes_by": result.sizes_by, "unanswered_429": result.failures.get("rate_limited", 0),
            "licence_files_deferred": result.licence_files_deferred,
            "licence_files_revisited": result.licence_files_revisited,
            "peak_rss_mb": result.peak_rss_mb}


def projection(per_model: dict[str, float], fixed: dict[str, int]) -> dict:
    """Hours for a first crawl of HUB_MODELS at each tier's budget: the slowest bucket decides.
    fixed: requests that do not grow with the models (the dump's own)."""
    out = {}
    for tier in TIERS:
        budget = HUB_BUDGETS[tier]
        seconds = {b: (HUB_MODELS * per_model.get(b, 0) + fixed.get(b, 0)) / (limit / window)
                   for b, (limit, window) in budget.items()}
        binding = max(seconds, key=seconds.get)
        out[tier] = {"hours": round(seconds[binding] / 3600, 2), "binding_bucket": binding,
                     "hours_by_bucket": {b: round(s / 3600, 2) for b, s in seconds.items()}}
    return out


CELLS = {"classifications": "model_id, component, level, label, reason, licences, points, confidence, "
                            "finding_ids, evidence, inherited_from, search",
         "model_summaries": "model_id, family, fully_open, semi_open, closed, unknown, not_applicable, "
                            "mof_class, osaid, inputs_fp"}


def classified(path: Path) -> dict:
    """Classify a warehouse; each table's row count and digest."""
    import duckdb
    from openness.classification.scale.classify import classify_warehouse
    classify_warehouse(str(path))
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*), md5(string_agg(({columns})::VARCHAR, '|' ORDER BY "
                               f"({columns})::VARCHAR)) FROM {t}").fetchone() for t, columns in CELLS.items()}


def cells_equal(first: Path, second: Path) -> dict:
    """Classify both warehouses; whether their cells and summaries are the same, row for row."""
    digests = [classified(first), classified(second)]
    return {"equal": digests[0] == digests[1], "rows": {t: digests[0][t][0] for t in CELLS}}


def held_back(plain: Path, deferred: Path) -> dict:
    """The cells of a crawl that left licence files pending, against a crawl that read them all
    (both classified): how many differ (and of them, how many the plain crawl calls 4-5), and
    whether each is held as Unknown for want of a licence file: never more open."""
    import duckdb
    with duckdb.connect(str(deferred), read_only=True) as con:
        con.execute(f"ATTACH '{plain}' AS plain (READ_ONLY)")
        differ = con.execute(
            "SELECT d.label, d.reason, p.level FROM classifications d JOIN plain.classifications p "
            "USING (model_id, component) WHERE (d.level, d.label, d.reason) IS DISTINCT FROM (p.level, p.label, p.reason)"
        ).fetchall()
    return {"cells_differing": len(differ),
            "of_them_open_when_read": sum(1 for _, _, level in differ if (level or 0) >= 4),
            "all_held_back_not_more_open": all(label == "Unknown" and reason == "licence_unread"
                                               for label, reason, _ in differ)}


def _run(endpoint: str, warehouse: Path, budget: dict, log: Path, cache: Path, bootstrap: str,
         licence_files: str) -> dict:
    """One crawl, with the requests its entries in the emulator's log show."""
    before = len(read_log(log)) if log.exists() else 0
    report = crawl(endpoint, warehouse, budget, bootstrap, cache, licence_files)
    entries = read_log(log, since=before)
    counted = report["models"] or 1
    # requests the buckets served; a 429 (at a window's edge, the crawl asked again) is counted apart
    report["requests"] = {b: sum(1 for e in entries if e["bucket"] == b and e["status"] != 429) for b in ("api", "resolvers")}
    report["answered_429"] = sum(1 for e in entries if e["status"] == 429)
    report["requests_per_model"] = {b: round(n / counted, 4) for b, n in report["requests"].items()}
    report["dump_requests"] = {b: sum(1 for e in entries if e["bucket"] == b and "/datasets/" in e["path"])
                               for b in ("api", "resolvers")}
    report["licence_file_requests"] = sum(1 for e in entries if e["method"] == "GET" and "/resolve/" in e["path"]
                                          and "/datasets/" not in e["path"] and not e["path"].endswith("/README.md"))
    report["budget"] = budget_use(entries, budget)
    return report


def deferred_projection(first: dict, second: dict) -> dict:
    """The whole Hub when licence files wait: the first crawl asks the listing and the stale cards
    (licence files it read were spare capacity: they never push back its end); the next crawl asks
    every licence file, beside its own listing."""
    models = max(1, first["models"])
    cards = {"api": (first["requests"]["api"] - first["dump_requests"]["api"]) / models,
             "resolvers": (first["requests"]["resolvers"] - first["dump_requests"]["resolvers"]
                           - first["licence_file_requests"]) / models}
    licences = {"api": second["requests"]["api"] / models,
                "resolvers": (first["licence_file_requests"] + second["licence_file_requests"]) / models}
    return {"first_crawl": projection(cards, first["dump_requests"]), "next_crawl": projection(licences, {})}


def measure(models: int, window: float, stale: float, work: Path, classify: bool = False,
            crawls: tuple[str, ...] = tuple(CRAWLS), quota_share: float = 1.0) -> dict:
    """quota_share: each bucket's quota scaled by it, the ratio kept (a tiny world needs a small
    budget for its buckets to bind at all)."""
    world, dump = work / "world", work / "dump"
    report: dict = {"models_in_world": models, "window_s": window, "stale_share": stale}
    started = time.perf_counter()
    if not (world / "models").is_dir():
        write_world(world, models)
    report["world_written_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    written = write_card_dump([world], dump, stale=stale, seed=1)
    report["dump"] = {"rows": written.rows, "stale": written.stale, "files": written.files,
                      "bytes": sum(p.stat().st_size for p in (written.folder / "files" / "data").glob("*.parquet")),
                      "written_s": round(time.perf_counter() - started, 1)}
    budget = {b: (max(1, round(limit * quota_share)), window) for b, (limit, _) in HUB_BUDGETS["anonymous"].items()}
    spec = ",".join(f"{b}={limit}/{seconds:g}" for b, (limit, seconds) in budget.items())
    log = work / "requests.log"
    log.unlink(missing_ok=True)
    process, endpoint = serve([world, dump], log, ["--rate-limit", spec])
    try:
        for name in crawls:
            warehouse = work / f"{name}.duckdb"
            for old in (warehouse, Path(f"{warehouse}.wal")):
                old.unlink(missing_ok=True)
            report[name] = _run(endpoint, warehouse, budget, log, work / "hf-cache", *CRAWLS[name])
            if name == "deferred":  # and the next crawl, a nightly one: it reads what was left pending
                if classify and "per_model" in crawls:
                    classified(warehouse)
                    classified(work / "per_model.duckdb")
                    report["deferred"]["verdicts"] = held_back(work / "per_model.duckdb", warehouse)
                report["next_crawl"] = _run(endpoint, warehouse, budget, log, work / "hf-cache",
                                            "off", "auto")
    finally:
        process.terminate()
        process.wait()
    if {"per_model", "bootstrap"} <= set(crawls):
        report["speedup"] = round(report["per_model"]["seconds"] / max(report["bootstrap"]["seconds"], 0.001), 2)
    report["whole_hub_projection"] = {
        name: projection({b: (n - report[name]["dump_requests"][b]) / max(1, report[name]["models"])
                          for b, n in report[name]["requests"].items()}, report[name]["dump_requests"])
        for name in ("per_model", "bootstrap") if name in crawls}
    if "deferred" in crawls:
        report["whole_hub_projection"]["deferred"] = deferred_projection(report["deferred"], report["next_crawl"])
    if classify and "per_model" in crawls:
        report["verdicts"] = {name: cells_equal(work / "per_model.duckdb", work / f"{name}.duckdb")
                              for name in ("bootstrap", "deferred") if name in crawls}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=20.0, help="seconds standing in for the Hub's 300-second window")
    parser.add_argument("--stale", type=float, default=0.02, help="share of dump rows older than the world")
    parser.add_argument("--classify", action="store_true", help="classify both warehouses and compare their cells")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--crawls", default=",".join(CRAWLS), help=f"which first crawls, of {', '.join(CRAWLS)}")
    args = parser.parse_args()
    crawls = tuple(c for c in args.crawls.split(",") if c)
    if not crawls or set(crawls) - set(CRAWLS):
        parser.error(f"--crawls takes {', '.join(CRAWLS)}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="openness-bootstrap-"))
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps(measure(args.models, args.window, args.stale, work, args.classify, crawls), indent=2))


if __name__ == "__main__":
    main()
