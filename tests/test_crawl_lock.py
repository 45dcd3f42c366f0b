"""One crawl per warehouse, even when the parent is killed alone (issue: `kill -9` of the parent
left its crawl process running beside the next crawl, which fetched 2,161 READMEs twice)."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import children_of, scalar, warehouse_content, world_endpoints, world_flags
from openness.pipeline.child import JOB_PREFIX, remove_stale_job_folders
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.emulator.limits import FaultSpec
from openness.warehouse.errors import CrawlLocked


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def locked(warehouse: str) -> bool:
    with open(f"{warehouse}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_second_crawl_is_refused_while_a_live_process_holds_the_lock_and_takes_it_over_after(
        sample_world, emulator, warehouse):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from warehouse.runs import crawl_lock\n"
                               "with crawl_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)", warehouse],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    server = emulator(sample_world)
    config = CrawlConfig(warehouse=warehouse, use_token=False, limit=2, **world_endpoints(server))
    with pytest.raises(CrawlLocked, match=f"another crawl is writing .* \\(pid {holder.pid}\\)"):
        run_crawl(config)
    holder.kill()
    holder.wait()
    assert run_crawl(config).status == "complete"  # a dead holder's lock is simply taken over


@pytest.mark.wallclock
def test_the_crawl_process_stops_when_its_parent_is_killed_alone(sample_world, emulator, warehouse, tmp_path):
    baseline = str(tmp_path / "baseline.duckdb")
    run_crawl(CrawlConfig(warehouse=baseline, use_token=False, **world_endpoints(emulator(sample_world))))
    slow = emulator(sample_world, faults="latency=0.3")
    command = [sys.executable, "-m", "openness", "--warehouse", warehouse, "crawl", *world_flags(slow),
               "--concurrency", "2", "--batch-size", "3"]
    parent = subprocess.Popen(command, env={**os.environ, "HF_TOKEN": ""}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (os.path.exists(warehouse) and _loaded(warehouse)):
        time.sleep(0.2)
    [child] = children_of(parent.pid)
    # requests from now on take 5 s, so the child, stopping gracefully, waits for those in flight:
    # long enough to see it alive and holding the lock after its parent is gone
    slow.faults.spec = FaultSpec(latency=5.0)
    time.sleep(0.8)
    parent.kill()  # the parent alone: its crawl process is reparented, not killed
    parent.wait()
    assert alive(child) and locked(warehouse)  # still finishing: no second crawl may start yet
    deadline = time.monotonic() + 45
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child), "the orphaned crawl process went on crawling"
    # its last threads may still be exiting after the main one shows as a zombie: the lock goes with them
    deadline = time.monotonic() + 5
    while locked(warehouse) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not locked(warehouse)
    run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, **world_endpoints(emulator(sample_world))))
    # the killed parent never cleaned up its job folder; the next crawl did (any crawl on this
    # machine may have: they all remove the folders of dead parents)
    assert not [p for p in Path(tempfile.gettempdir()).glob(JOB_PREFIX + "*")
                if (p / "owner.pid").is_file() and (p / "owner.pid").read_text() == str(parent.pid)]
    assert warehouse_content(warehouse) == warehouse_content(baseline)


def test_only_job_folders_of_dead_parents_are_removed(tmp_path):
    for name, pid in (("live", os.getpid()), ("dead", 2**22 + 7), ("foreign", None)):
        folder = tmp_path / f"{JOB_PREFIX}{name}"
        folder.mkdir()
        (folder / "job.json").write_text("{}")
        if pid is not None:
            (folder / "owner.pid").write_text(str(pid))
    assert remove_stale_job_folders(str(tmp_path)) == 1
    assert sorted(p.name.removeprefix(JOB_PREFIX) for p in tmp_path.iterdir()) == ["foreign", "live"]


def _loaded(warehouse: str) -> bool:
    try:
        return scalar(warehouse, "SELECT count(*) FROM loaded_batches") >= 2
    except Exception:
        return False
