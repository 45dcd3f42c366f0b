"""Fault benchmark: does a crawl that meets faults converge to the crawl that met none?

    python benchmarks/faults.py --models 3000 [--rates 0.1,0.2,0.3] [--kills 6] [--seed 1]

A synthetic world is crawled once without faults and classified: the baseline. Then, each into a
fresh warehouse:
- a fault storm per rate: every answer of the emulator fails with that probability (503s, reset
  connections, bodies cut short, a proxy's HTML page in place of the answer), retries within a run
  off, and the crawl is run again (new faults each time) until a run ends `complete`;
- random kills: `openness crawl` started as a process and killed with SIGKILL after a random
  moment, the parent alone or its whole process tree, --kills times, then crawled to the end.
Each warehouse is then classified and compared with the baseline row by row: rows lost, rows
duplicated, and whether the classifications are the same bytes. Prints a JSON report.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import duckdb  # noqa: E402

from benchmarks.synthetic import write_world  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402
from openness.emulator import serving  # noqa: E402
from openness.classification.scale.classify import classify_warehouse  # noqa: E402

# What two crawls of the same world hold alike; columns that differ by nature (run ids, clock times,
# the emulator's port) are left out.
COMPARED = ("models", "repo_files", "documents", "findings", "model_links", "classifications", "model_summaries")
# bookkeeping that differs between two crawls of one world: run ids, times, and the fingerprints of
# inputs that carry the emulator's port (its URLs are compared without it) and why a model was redone
VOLATILE = {"run_id", "fetched_at", "failed_at", "observed_at", "inputs_fp", "links_fp", "cells_fp", "redone_because"}
MAX_RUNS = 25


def content(warehouse: str) -> dict[str, Counter]:
    """Every row of the compared tables, as a multiset (a duplicated row counts twice)."""
    found = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        for table in COMPARED:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in VOLATILE]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            found[table] = Counter(tuple(_portless(v) for v in row) for row in rows)
    return found


def _portless(value):
    """Each emulator listens on its own port; the rest of a URL must match. Lists become tuples."""
    if isinstance(value, list):
        return tuple(_portless(v) for v in value)
    return re.sub(r"http://127\.0\.0\.1:\d+", "ENDPOINT", value) if isinstance(value, str) else value


def compare(expected: dict[str, Counter], got: dict[str, Counter]) -> dict:
    lost = {t: sum((expected[t] - got[t]).values()) for t in COMPARED}
    extra = {t: sum((got[t] - expected[t]).values()) for t in COMPARED}
    return {"rows_lost": sum(lost.values()), "rows_duplicated_or_different": sum(extra.values()),
            "by_table": {t: {"lost": lost[t], "extra": extra[t]} for t in COMPARED if lost[t] or extra[t]},
            "classifications_identical": expected["classifications"] == got["classifications"]
            and expected["model_summaries"] == got["model_summaries"]}


def crawl(warehouse: str, endpoint: str, **settings) -> str:
    config = CrawlConfig(warehouse=warehouse, endpoint=endpoint, use_token=False, follow_depth=0,
                         rate_budget={"api": (10**9, 1), "resolvers": (10**9, 1)},
                         settings={"RETRY_BACKOFF_BASE": 0.01, "CONCURRENT_REQUESTS": 16, **settings})
    return run_crawl(config).status


def storm(world: Path, warehouse: str, rate: float, seed: int) -> dict:
    """Crawl under faults at `rate` (new faults each run, no retries within a run) until complete."""
    started, statuses = time.perf_counter(), []
    spec = (f"error={rate * 0.4:.3f},reset={rate * 0.2:.3f},truncate={rate * 0.2:.3f},html={rate * 0.2:.3f}")
    for run in range(1, MAX_RUNS + 1):
        with serving(world, faults=f"{spec},seed={seed * 1000 + run}") as server:
            statuses.append(crawl(warehouse, server.base_url, RETRY_TIMES=0))
        if statuses[-1] == "complete":
            break
    return {"rate": rate, "runs": len(statuses), "statuses": statuses, "seconds": round(time.perf_counter() - started, 1)}


def kills(world: Path, warehouse: str, count: int, rng: random.Random) -> dict:
    """Start `openness crawl`, SIGKILL it (the parent alone or the whole tree) after a random moment,
    count times; then crawl to the end without faults."""
    started, done = time.perf_counter(), []
    with serving(world, faults="latency=0.005") as server:
        for _ in range(count):
            whole_tree = rng.random() < 0.5
            process = subprocess.Popen(
                [sys.executable, "-m", "openness", "--warehouse", warehouse, "crawl", "--hub-endpoint", server.base_url,
                 "--follow-depth", "0", "--batch-size", "50", "--rate-budget", "api=1000000000/1",
                 "--rate-budget", "resolvers=1000000000/1"],
                env={**os.environ, "HF_TOKEN": ""}, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 6.0))
            ended = process.poll() is not None
            if not ended:
                (os.killpg if whole_tree else os.kill)(process.pid, signal.SIGKILL)
            process.wait()
            _wait_for_lock(warehouse)  # a parent killed alone: its crawl process stops, then lets go
            if ended:  # a crawl that could not even start must not pass for one that finished
                done.append("finished before the kill" if process.returncode in (0, 75) else f"failed (exit {process.returncode})")
            else:
                done.append("tree" if whole_tree else "parent")
        runs = 0
        while runs < MAX_RUNS:
            runs += 1
            if crawl(warehouse, server.base_url) == "complete":
                break
    return {"kills": done, "runs_to_finish": runs, "seconds": round(time.perf_counter() - started, 1)}


def _wait_for_lock(warehouse: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"{warehouse}.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                time.sleep(0.2)
    raise RuntimeError(f"{warehouse} still locked after {timeout:g} s")


def measure(models: int, rates: list[float], kill_count: int, seed: int, root: Path) -> dict:
    world = write_world(root / "world", models, seed=seed)
    baseline = str(root / "baseline.duckdb")
    with serving(world) as server:
        crawl(baseline, server.base_url)
    classify_warehouse(baseline)
    expected = content(baseline)
    report = {"models": models, "baseline_rows": {t: sum(c.values()) for t, c in expected.items()}, "scenarios": []}
    scenarios = [(f"storm {rate:g}", lambda path, rate=rate: storm(world, path, rate, seed)) for rate in rates]
    if kill_count:
        scenarios.append((f"{kill_count} kills", lambda path: kills(world, path, kill_count, random.Random(seed))))
    for name, run in scenarios:
        path = str(root / f"{name.replace(' ', '-')}.duckdb")
        outcome = run(path)
        classify_warehouse(path)
        report["scenarios"].append({"scenario": name, **outcome, **compare(expected, content(path))})
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=3000)
    parser.add_argument("--rates", default="0.1,0.2,0.3")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openness-faults-") as tmp:
        report = measure(args.models, [float(r) for r in args.rates.split(",")], args.kills, args.seed, Path(tmp))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
