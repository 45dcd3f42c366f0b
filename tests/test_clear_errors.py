"""Every command meets a broken warehouse file, or an endpoint nobody answers at, with one clear
line naming it and what to do: never a traceback, never 35 s of retries."""
from __future__ import annotations

import os
import time

import duckdb
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.pipeline.errors import CrawlError
from openness.pipeline.runner import CrawlConfig, check_reachable, run_crawl

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
