"""Agreement benchmark: how far the classifications agree with cells people classified by hand.
Serves the worlds that hold the gold set's models (several served as one), crawls them with their
links, classifies, and scores the gold cells (`openness evaluate`).

    python benchmarks/agreement.py --gold GOLD.csv WORLD [WORLD ...] [--json]

Prints the agreement (exact, within one level, false open, per component) and every disagreement,
or the JSON report with the crawl's and classification's times.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openness.cli.formatting import format_agreement  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402
from openness.emulator import serving  # noqa: E402
from openness.classification.scale.classify import classify_warehouse  # noqa: E402
from openness.classification.taxonomy.evaluate import Agreement, evaluate_warehouse  # noqa: E402


def measure(worlds: list[str], gold: str, warehouse: str) -> tuple[Agreement, dict]:
    """Crawl the worlds into `warehouse` (links followed), classify, score `gold`."""
    started = time.monotonic()
    with serving(list(worlds)) as server:
        crawl = run_crawl(CrawlConfig(warehouse=warehouse, endpoint=server.base_url, use_token=False,
                                      github_api=f"{server.base_url}/api/v3", web_base=f"{server.base_url}/web",
                                      settings={"WEB_DELAY": 0.0}))
    crawled = time.monotonic()
    classified = classify_warehouse(warehouse)
    agreement = evaluate_warehouse(warehouse, gold)
    return agreement, {"crawl_status": crawl.status, "models": classified.models,
                       "crawl_seconds": round(crawled - started, 1), "classify_seconds": classified.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worlds", nargs="+")
    parser.add_argument("--gold", required=True)
    parser.add_argument("--warehouse", help="keep the warehouse here (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        agreement, run = measure(args.worlds, args.gold, args.warehouse or str(Path(scratch) / "openness.duckdb"))
    if args.json:
        print(json.dumps({**run, **agreement.as_dict()}, indent=2, default=str))
    else:
        print(json.dumps(run))
        print(format_agreement(agreement))


if __name__ == "__main__":
    main()
