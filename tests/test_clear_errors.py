"""Every command meets a broken warehouse file, or an endpoint nobody answers at, with one clear
line naming it and what to do: never a traceback, never 35 s of retries."""
from __future__ import annotations

import logging
import os
import sys
import time

import duckdb
import pytest
from click.testing import CliRunner

from conftest import copy_warehouse, request_log, world_flags
from openness.cli.main import cli
from openness.pipeline.errors import CrawlError
from openness.pipeline.reach import check_reachable
from openness.pipeline.runner import CrawlConfig, run_crawl

COMMANDS = [
    ["query", "SELECT count(*) FROM models"], ["classify"], ["explain", "a/b"], ["report", "--out", "{tmp}/r"],
    ["export", "--out", "{tmp}/x"], ["export", "--spdx", "{tmp}/s"], ["diff"], ["extract"],
    ["retain", "--keep", "1", "--archive", "{tmp}/a"], ["evaluate", "{tmp}/gold.csv"], ["demo", "--report", "{tmp}/d"],
    ["crawl", "--hub-endpoint", "http://127.0.0.1:9"],
]


def broken(kind: str, path: str) -> None:
    if kind == "text":
        with open(path, "w") as handle:
            handle.write("id,level\nnot a database\n")
    elif kind == "empty":
        open(path, "w").close()
    else:  # a real warehouse cut short: it opens, then fails at the first block it cannot read
        with duckdb.connect(path) as con:
            con.execute("CREATE TABLE models AS SELECT range AS model_id, repeat('x', 100) AS text FROM range(200000)")
        os.truncate(path, os.path.getsize(path) // 2)


@pytest.mark.parametrize("kind", ["text", "empty", "truncated"])
@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] + ("-spdx" if "--spdx" in c else "") for c in COMMANDS])
def test_a_broken_warehouse_file_is_one_clear_line(tmp_path, kind, command):
    warehouse = str(tmp_path / "openness.duckdb")
    broken(kind, warehouse)
    (tmp_path / "gold.csv").write_text("model_id,component,level\na/b,training.code.pretraining,5\n")
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, *[a.format(tmp=tmp_path) for a in command]])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (duckdb.Error, AttributeError))
    if command[0] == "crawl":
        assert "could not connect to http://127.0.0.1:9" in result.output or "cannot read the warehouse" in result.output
    else:
        assert f"cannot read the warehouse {warehouse}" in result.output.replace(str(tmp_path.resolve()), str(tmp_path))
        assert "move it aside" in result.output
    assert result.output.count("\n") <= 2


def test_an_unreachable_endpoint_ends_within_seconds(tmp_path):
    started = time.monotonic()
    with pytest.raises(CrawlError, match="could not connect to http://127.0.0.1:9"):
        run_crawl(CrawlConfig(warehouse=str(tmp_path / "w.duckdb"), endpoint="http://127.0.0.1:9", use_token=False))
    with pytest.raises(CrawlError, match="no such host"):
        check_reachable("http://no-such-host.invalid")
    assert time.monotonic() - started < 10
    assert not (tmp_path / "w.duckdb").exists()  # nothing created for a crawl that could not start


def test_a_proxy_decides_for_itself(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    check_reachable("http://no-such-host.invalid")  # the proxy would answer: no direct connect tried


class _BrokenFile:
    """Stands for a package data file (resources.files(...) / ... / name) holding `text`."""

    def __init__(self, text: str):
        self.text = text

    def __truediv__(self, name):
        return self

    def read_text(self, encoding="utf-8"):
        return self.text


@pytest.mark.parametrize("text,message", [("levels: [not closed", "rules.yml is not valid YAML"),
                                          ("version: 1\n", "rules.yml")])
def test_a_broken_rules_file_is_one_clear_line(tmp_path, monkeypatch, text, message):
    from types import SimpleNamespace

    from openness.warehouse.db import connect
    from openness.classification.taxonomy import rules as rules_module
    warehouse = str(tmp_path / "openness.duckdb")
    with connect(warehouse):
        pass
    rules_module.rules.cache_clear()
    monkeypatch.setattr(rules_module, "resources", SimpleNamespace(files=lambda package: _BrokenFile(text)))
    try:
        result = CliRunner().invoke(cli, ["--warehouse", warehouse, "classify"])
    finally:
        rules_module.rules.cache_clear()
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_a_broken_knowledge_file_is_one_clear_line(tmp_path, monkeypatch):
    from openness.extractors import knowledge as knowledge_module
    (tmp_path / "broken.yml").write_text("id: [not closed\n")
    knowledge_module.knowledge.cache_clear()
    monkeypatch.setattr(knowledge_module, "licences_dir", lambda: tmp_path)
    try:
        result = CliRunner().invoke(cli, ["licenses"])
    finally:
        knowledge_module.knowledge.cache_clear()
    assert result.exit_code == 1 and "broken.yml" in result.output, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


@pytest.mark.parametrize("kept", [0.1, 0.5, 0.99])
def test_a_crawl_into_a_warehouse_cut_short_stops_before_it_starts(sample_crawled, sample_world, emulator,
                                                                   tmp_path, kept):
    """A crawled warehouse cut short opens, and fails only where a read first meets a missing block:
    the crawl says so in one line before crawling anything, and leaves the file as it was."""
    warehouse = copy_warehouse(sample_crawled[0], str(tmp_path / "openness.duckdb"))
    os.truncate(warehouse, int(os.path.getsize(warehouse) * kept))
    size = os.path.getsize(warehouse)
    server = emulator(sample_world)
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, "crawl", *world_flags(server)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot read the warehouse" in result.output and result.output.count("\n") <= 2
    assert os.path.getsize(warehouse) == size
    assert not [r for r in request_log(server) if r["path"].startswith("/api/models")]  # nothing crawled


@pytest.mark.parametrize("message, damage", [
    ("Corrupt database file: computed checksum 5381 does not match stored checksum 0 in block at location 7", True),
    ('IO Error: Could not read enough bytes from file "w.duckdb": attempted to read 4096 bytes from location 4096', True),
    ("Binder Error: Referenced column \"x\" not found", False),
    ("IO Error: Could not set lock on file \"w.duckdb\": Conflicting lock is held", False),
])
def test_a_warehouse_damaged_mid_crawl_is_said_once_and_stops_the_crawl(message, damage, monkeypatch):
    """Scrapy logs the errors of its signal handlers and callbacks with their tracebacks; a damaged
    warehouse's become one line, the first one only, and the crawl is asked to stop."""
    from openness.crawler import log_filters

    class Stats(dict):
        def set_value(self, key, value):
            self[key] = value

    class Crawler:
        stats, engine = Stats(), None

    stops = []
    monkeypatch.setattr(log_filters.reactor, "callLater", lambda delay, call: stops.append(call))
    guard = log_filters.WarehouseGuard(Crawler(), "w.duckdb")
    records = []
    for _ in range(3):
        try:
            raise duckdb.Error(message)
        except duckdb.Error:
            record = logging.getLogger("scrapy.utils.signal").makeRecord(
                "scrapy.utils.signal", logging.ERROR, __file__, 1, "Error caught on signal handler: %s", ("flush",),
                sys.exc_info())
        records.append((guard.filter(record), record))
    if damage:
        assert [kept for kept, _ in records] == [True, False, False]
        first = records[0][1]
        assert first.exc_info is None and first.getMessage().startswith("cannot read the warehouse w.duckdb")
        assert len(stops) == 1 and Crawler.stats == {"openness/warehouse_damaged": 1}
    else:
        assert all(kept and record.exc_info for kept, record in records) and not stops
