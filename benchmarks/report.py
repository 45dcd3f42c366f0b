"""Report benchmark: a synthetic warehouse of N classified models (benchmarks/classify.py's
build, then `classify`), `openness report` over it, then its first page opened in headless
Chromium (Debian's chromium), as a reader opens it.

    python benchmarks/report.py --models 100000 [--screenshot PATH] [--keep DIR]

Prints a JSON report: seconds to build and classify the warehouse, seconds to write the report,
its pages and bytes (the first page and all), and the seconds Chromium takes from start to the
drawn page (`--dump-dom`, which returns once the page's script has run), with its console errors.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import work_folder  # noqa: E402
from benchmarks.classify import build  # noqa: E402
from openness.classification.scale.classify import classify_warehouse  # noqa: E402
from openness.outputs.report import write_report  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def measure(models: int, work: Path, screenshot: Path | None = None, limit: int = 500, page_size: int = 100) -> dict:
    warehouse = str(work / "bench.duckdb")
    started = time.perf_counter()
    build(warehouse, models)
    classify_warehouse(warehouse)
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    result = write_report(warehouse, work / "site", limit=limit, page_size=page_size)
    written = time.perf_counter() - started
    pages = sorted((work / "site").glob("*.html"))
    report = {"models": result.models_classified, "build_and_classify_s": round(prepared, 1),
              "report_s": round(written, 2), "matrix_models": result.models_shown, "pages": result.pages,
              "page_size": result.page_size, "index_bytes": Path(result.index).stat().st_size,
              "all_pages_bytes": sum(p.stat().st_size for p in pages)}
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        report["chromium"] = open_page(chromium, Path(result.index), work, screenshot)
    return report


def console_errors(stderr: str) -> list[str]:
    """Chromium's log lines for the page's console errors and uncaught exceptions."""
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line and ("ERROR" in line.split("CONSOLE")[0] or "Uncaught" in line)]


def open_page(chromium: str, page: Path, work: Path, screenshot: Path | None) -> dict:
    started = time.perf_counter()
    run = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    errors = console_errors(run.stderr)
    drawn = len(re.findall(r'<td class="model" title="', run.stdout))
    if screenshot:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile-shot'}", "--window-size=1500,1900",
                        f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=300)
    return {"open_and_draw_s": round(seconds, 2), "rows_drawn": drawn, "console_errors": errors[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--screenshot", type=Path, help="a PNG of the first page")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    with work_folder(args.keep, "openness-report-") as work:
        print(json.dumps(measure(args.models, work, args.screenshot), indent=2))


if __name__ == "__main__":
    main()
