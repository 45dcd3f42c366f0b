"""Shared fixtures: worlds, a running emulator, a warehouse path, and warehouse snapshots to compare."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # before huggingface_hub is imported
os.environ.pop("HF_TOKEN", None)

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from openness.emulator import sample_world_path, serving

REPO = Path(__file__).resolve().parent.parent
REAL_SAMPLE = REPO.parent / "shared" / "world" / "real-sample"


@pytest.fixture(scope="session")
def sample_world() -> Path:
    return sample_world_path()


@pytest.fixture(scope="session")
def real_sample() -> Path:
    if not REAL_SAMPLE.is_dir():
        pytest.skip(f"{REAL_SAMPLE} is not beside the project")
    return REAL_SAMPLE


@pytest.fixture(scope="session")
def audited(tmp_path_factory, real_sample) -> str:
    """The real sample crawled and classified, read only (the SPDX tests share it)."""
    from openness.pipeline.runner import CrawlConfig, run_crawl
    from openness.emulator import serving
    from openness.classification.scale.classify import classify_warehouse
    path = str(tmp_path_factory.mktemp("spdx") / "openness.duckdb")
    with serving(real_sample) as server:
        run_crawl(CrawlConfig(warehouse=path, use_token=False, settings={"WEB_DELAY": 0.0}, **world_endpoints(server)))
    classify_warehouse(path)
    return path


@pytest.fixture(scope="session")
def sample_crawled(sample_world, tmp_path_factory):
    """The bundled sample world crawled once (its links followed) and the crawl's result: tests that
    only read it share it, and one that writes takes a copy (copy_warehouse)."""
    from openness.pipeline.runner import CrawlConfig, run_crawl
    path = str(tmp_path_factory.mktemp("sample") / "openness.duckdb")
    with serving(sample_world) as server:
        result = run_crawl(CrawlConfig(warehouse=path, use_token=False, settings={"WEB_DELAY": 0.0},
                                       **world_endpoints(server)))
    return path, result


@pytest.fixture
def emulator(tmp_path):
    """emulator(world, **options) -> a started server; log_requests defaults to a file in tmp_path."""
    opened = []

    def start(world, **options):
        options.setdefault("log_requests", str(tmp_path / f"requests-{len(opened)}.jsonl"))
        context = serving(world, **options)
        server = context.__enter__()
        server.log_path = options["log_requests"]
        opened.append(context)
        return server

    yield start
    for context in reversed(opened):
        context.__exit__(None, None, None)


@pytest.fixture
def warehouse(tmp_path) -> str:
    return str(tmp_path / "openness.duckdb")


def copy_warehouse(source: str, target: str) -> str:
    """A warehouse made once (a module's or the session's fixture) copied for a test that writes
    to it: crawling the same world again for every such test would cost seconds each."""
    shutil.copyfile(source, target)
    if os.path.exists(source + ".wal"):
        shutil.copyfile(source + ".wal", target + ".wal")
    return target


def world_endpoints(server) -> dict:
    """CrawlConfig options that point every service (Hub, GitHub, web pages) at an emulator."""
    return {"endpoint": server.base_url, "github_api": f"{server.base_url}/api/v3",
            "web_base": f"{server.base_url}/web"}


def world_flags(server) -> list[str]:
    """The same for `openness crawl`."""
    return ["--hub-endpoint", server.base_url, "--github-api", f"{server.base_url}/api/v3",
            "--web-base", f"{server.base_url}/web"]


def request_log(server) -> list[dict]:
    with open(server.log_path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


# Columns that differ between two crawls of the same data by nature: run ids, clock times, ports.
VOLATILE = {"run_id", "fetched_at", "failed_at", "observed_at"}


def warehouse_content(path: str, tables=("models", "repo_files", "documents")) -> dict[str, list[tuple]]:
    """Every row of the content tables without volatile columns, sorted: equal for equal crawls."""
    content = {}
    con = duckdb.connect(path, read_only=True)
    try:
        for table in tables:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in VOLATILE]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            content[table] = sorted((tuple(_portless(v) for v in row) for row in rows), key=repr)
    finally:
        con.close()
    return content


def _portless(value):
    """Each emulator listens on its own port; the rest of a URL must match."""
    return re.sub(r"http://127\.0\.0\.1:\d+", "ENDPOINT", value) if isinstance(value, str) else value


def rows(path: str, sql: str, params=None) -> list[tuple]:
    """Every row a query gives, read from a warehouse opened read-only for that one query."""
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql, list(params or [])).fetchall()
    finally:
        con.close()


def scalar(path: str, sql: str, params=None):
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchone()[0]
    finally:
        con.close()


def is_verbatim(evidence: dict, text: str) -> bool:
    """Whether an evidence entry's snippet is text's lines line_start..line_end, or, when it was cut
    (a column is given), starts at that column of line_start and stays within those lines."""
    lines = "\n".join(text.splitlines()[evidence["line_start"] - 1:evidence["line_end"]])
    if evidence.get("column") is None:
        return lines == evidence["snippet"]
    return lines[evidence["column"] - 1:].startswith(evidence["snippet"])


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is pid (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


class FakeStats:
    """Scrapy's stats collector, as far as the crawl's helpers use it."""

    def __init__(self):
        self.values = {}

    def get_value(self, key, default=None):
        return self.values.get(key, default)

    def set_value(self, key, value):
        self.values[key] = value

    def inc_value(self, key, count=1, start=0):
        self.values[key] = self.values.get(key, start) + count
