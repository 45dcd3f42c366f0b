"""A scheduled job: one crawl profile's steps (crawl, classify, export, retain, report), each
returning a step result and logging one line. A second job on the same warehouse while one runs is
refused at once (exit 75, EX_TEMPFAIL); a failed step stops the job with exit 1 and a line that
says which step and why; a partial crawl goes on to export what it read, and still exits 1."""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from openness.pipeline.errors import CrawlError, JobOverlap
from openness.pipeline.profiles import Profile, ProfileError
from openness.pipeline.config import CrawlConfig
from openness.pipeline.runner import run_crawl
from openness.classification.scale.classify import classify_warehouse
from openness.warehouse.errors import WarehouseError
from openness.outputs.report import write_report
from openness.outputs.snapshots import export_run, retain

EXIT_OK, EXIT_FAILED, EXIT_OVERLAP = 0, 1, 75


@dataclass
class StepResult:
    name: str
    status: str  # ok, partial, failed
    detail: str = ""
    seconds: float = 0.0


@dataclass
class JobResult:
    profile: str
    run_id: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    exit_code: int = EXIT_OK


def run_job(profile: Profile, log: Callable[[str], None]) -> JobResult:
    """Run the profile's steps under the job lock; log(line) gets one line per step."""
    def say(message: str) -> None:
        log(f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} openness[{profile.name}] {message}")

    result = JobResult(profile.name)
    try:
        with _job_lock(profile.warehouse):
            _load_env(profile, say)
            for name, step in _steps(profile):
                started = time.monotonic()
                try:
                    outcome = step(result)
                except (CrawlError, WarehouseError, OSError) as exc:
                    outcome = StepResult(name, "failed", str(exc))
                except Exception as exc:  # a bug still ends the night with one clear line and exit 1
                    outcome = StepResult(name, "failed", f"{type(exc).__name__}: {exc}")
                outcome.name, outcome.seconds = name, round(time.monotonic() - started, 1)
                result.steps.append(outcome)
                if outcome.status == "failed":
                    say(f"FAILED in {name}: {outcome.detail}")
                    result.exit_code = EXIT_FAILED
                    return result
                say(f"{name}: {outcome.status} {outcome.detail} ({outcome.seconds} s)".replace("  ", " "))
                if outcome.status == "partial":
                    result.exit_code = EXIT_FAILED
    except JobOverlap as exc:
        say(f"SKIPPED: {exc}")
        result.exit_code = EXIT_OVERLAP
        return result
    except ProfileError as exc:
        say(f"FAILED before the crawl: {exc}")
        result.exit_code = EXIT_FAILED
        return result
    say("done" if result.exit_code == EXIT_OK else "done, with a partial crawl (exit 1)")
    return result


def _classify(profile: Profile) -> StepResult:
    """Only what the crawl changed is classified again."""
    done = classify_warehouse(str(profile.warehouse))
    return StepResult("", "ok", f"{done.models} models classified, {done.unchanged} unchanged")


def _steps(profile: Profile):
    yield "crawl", lambda result: _crawl(profile, result)
    if profile.classify:
        yield "classify", lambda result: _classify(profile)
    yield "export", lambda result: StepResult("", "ok", export_run(str(profile.warehouse), result.run_id,
                                                                   profile.export_dir).out_dir)
    if profile.keep_runs:
        yield "retain", lambda result: _retain(profile)
    if profile.report_dir:
        yield "report", lambda result: StepResult("", "ok", write_report(str(profile.warehouse), profile.report_dir).index)


def _crawl(profile: Profile, job: JobResult) -> StepResult:
    crawl = run_crawl(CrawlConfig.from_profile(profile))
    job.run_id = crawl.run_id
    notes = (f", {crawl.models_vanished} left the listing" if crawl.models_vanished else "") + (
        f", {crawl.models_left_incomplete} still incomplete" if crawl.models_left_incomplete else "")
    detail = (f"run {crawl.run_id}: {crawl.models_seen} models, {crawl.models_new} new, {crawl.models_changed} changed"
              f"{notes}, {sum(crawl.failures.values())} failures, {crawl.responses_429} 429s")
    return StepResult("", "ok" if crawl.status == "complete" else "partial", detail)


def _retain(profile: Profile) -> StepResult:
    kept = retain(str(profile.warehouse), profile.keep_runs, profile.export_dir)
    return StepResult("", "ok", f"{len(kept.kept)} runs kept, {len(kept.compacted)} compacted")


def _load_env(profile: Profile, say) -> None:
    """Tokens for the job (HF_TOKEN, GITHUB_TOKEN) from a KEY=VALUE file: kept out of crontabs and
    unit files, never logged."""
    if profile.env_file is None:
        return
    try:
        text = profile.env_file.read_text("utf-8")
        mode = profile.env_file.stat().st_mode
    except OSError as exc:
        raise ProfileError(f"cannot read env_file {profile.env_file}: {exc.strerror}") from exc
    if mode & 0o077:
        say(f"warning: {profile.env_file} is readable by others; chmod 600 it")
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            os.environ[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")


class _job_lock:
    """An exclusive, non-blocking lock beside the warehouse for the whole job (the crawl's own lock
    covers only the crawl; classify, export and retention belong to the same night)."""

    def __init__(self, warehouse: Path):
        self.path = Path(f"{warehouse}.job.lock")

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "?"
            self.handle.close()
            raise JobOverlap(f"the previous job still runs (pid {holder}, lock {self.path})") from None
        self.handle.seek(0), self.handle.truncate(), self.handle.write(str(os.getpid())), self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False
