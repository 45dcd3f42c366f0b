"""Every command through click's CliRunner."""
from __future__ import annotations

import csv
import io
import os
import json

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import world_flags


@pytest.fixture
def run(warehouse):
    runner = CliRunner()

    def invoke(*args, **kwargs):
        return runner.invoke(cli, ["--warehouse", warehouse, *args], catch_exceptions=False, **kwargs)
    return invoke


def test_help_lists_every_command(run):
    result = run("--help")
    for command in ("world", "crawl", "query", "export", "demo"):
        assert command in result.output


def test_crawl_prints_a_summary_then_query_reads_it(run, sample_world, emulator):
    server = emulator(sample_world)
    result = run("crawl", *world_flags(server), "--author", "aurora-labs", "--author", "kestrel-ml")
    assert result.exit_code == 0, result.output
    assert "models   6 seen: 6 new, 0 changed, 0 unchanged" in result.output
    assert "requests api" in result.output and "1 base models stored" in result.output
    table = run("query", "SELECT model_id, gated FROM models ORDER BY model_id")
    # the six selected, and the base model kestrel-ml/polyglot-1b-GPTQ names (followed, not listed)
    assert "aurora-labs/aurora-7b " in table.output and "openfield/polyglot-1b " in table.output
    assert "(7 rows)" in table.output
    as_json = json.loads(run("query", "--json", "SELECT model_id FROM models ORDER BY 1").output)
    assert as_json[0] == {"model_id": "aurora-labs/aurora-7b"}
    rows = list(csv.reader(io.StringIO(run("query", "--csv", "SELECT model_id, likes FROM models ORDER BY 1").output)))
    assert rows[0] == ["model_id", "likes"] and len(rows) == 8
    again = run("crawl", *world_flags(server), "--author", "aurora-labs", "--json")
    assert json.loads(again.output)["models_unchanged"] == 2


def test_crawl_by_model_id_and_errors_become_messages(run, sample_world, emulator):
    server = emulator(sample_world)
    result = run("crawl", *world_flags(server), "--model", "basalt/taken-down")
    assert result.exit_code == 0 and "disabled 1" in result.output
    bad = run("crawl", "--rate-budget", "everything=1/1")
    assert bad.exit_code == 2 and "api=N/SECONDS" in bad.output
    nowhere = run("crawl", "--hub-endpoint", "localhost:8080")
    assert nowhere.exit_code == 1 and "must be an http(s) URL" in nowhere.output


def test_query_errors_are_clean(run):
    missing = run("query", "SELECT 1")
    assert missing.exit_code == 1 and "no warehouse" in missing.output
    run("query", "SELECT 1")  # still missing: nothing was created by a read
    assert "Traceback" not in missing.output


def test_query_refuses_to_write(run, sample_world, emulator):
    server = emulator(sample_world)
    run("crawl", *world_flags(server), "--limit", "2")
    result = run("query", "DROP TABLE models")
    assert result.exit_code == 1 and "read-only" in result.output
    assert "(2 rows)" in run("query", "SELECT * FROM models").output


def test_export_writes_a_snapshot(run, sample_world, emulator, tmp_path):
    server = emulator(sample_world)
    run("crawl", *world_flags(server), "--limit", "3", "--sort", "downloads")
    result = run("export", "--out", str(tmp_path / "snap"))
    assert result.exit_code == 0 and "manifest:" in result.output
    assert json.loads((tmp_path / "snap" / "manifest.json").read_text())["files"]["models.parquet"]["rows"] == 3


def test_demo_crawls_the_sample_world(run, tmp_path):
    result = run("demo", "--report", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    assert "models   31 seen: 31 new" in result.output
    assert "failures 4: not_found 2, disabled 1, renamed 1" in result.output
    assert "basalt/broken-yaml-model" in result.output and "invalid_metadata" in result.output
    assert "3. Classified: 31 models x 12 components" in result.output
    assert "training.code.pretraining    C5       inherited from aurora-labs/aurora-7b" in result.output
    assert (tmp_path / "report" / "index.html").exists()


def test_world_serve_rejects_bad_specs(run, sample_world):
    result = run("world", "serve", str(sample_world), "--rate-limit", "lots")
    assert result.exit_code == 1 and "N/SECONDS" in result.output
    stopped = run("world", "serve", str(sample_world), "--time-scale", "0")  # time would stand still
    assert stopped.exit_code == 2 and "--time-scale" in stopped.output


def test_a_partial_crawl_exits_75_and_says_how_many_models_are_left(run, monkeypatch):
    from openness.pipeline.runner import CrawlResult
    monkeypatch.setattr("openness.cli.crawl.run_crawl", lambda config: CrawlResult(
        "r1", "partial", models_seen=13, models_new=13, models_left_incomplete=2, failures={"server_error": 4}))
    result = CliRunner().invoke(cli, ["--warehouse", "w.duckdb", "crawl"])
    assert result.exit_code == 75
    assert "run r1: partial" in result.stdout and "; 2 still incomplete" in result.stdout
    assert "partial: 2 models still incomplete (see fetch_failures); crawl again later" in result.stderr


def test_query_help_names_every_table_and_view_and_one_format_at_a_time(run, sample_world, emulator):
    from openness.warehouse.db import TABLES, views
    shown = " ".join(run("query", "--help").output.split())  # the help wraps lines
    assert all(name in shown for name in (*TABLES, *views())) and "latest_models" in views()
    server = emulator(sample_world)
    assert run("crawl", *world_flags(server), "--model", "aurora-labs/aurora-7b").exit_code == 0
    both = run("query", "--json", "--csv", "SELECT 1 AS a")
    assert both.exit_code == 2 and "--json and --csv ask for two formats" in both.output
    assert json.loads(run("query", "--json", "SELECT 1 AS a").output) == [{"a": 1}]
    long = "SELECT repeat('x', 100) AS a"
    assert "x" * 59 + "…" in run("query", long).output and "x" * 60 not in run("query", long).output
    assert "x" * 100 in run("query", "--width", "0", long).output  # never cut
    assert "x" * 9 + "…" in run("query", "--width", "10", long).output


def test_classify_of_a_model_not_in_the_warehouse_says_so_and_does_nothing(run, sample_world, emulator):
    server = emulator(sample_world)
    assert run("crawl", *world_flags(server), "--model", "aurora-labs/aurora-7b").exit_code == 0
    typo = run("classify", "--model", "aurora-labs/aurora-7b", "--model", "no/such")
    assert typo.exit_code == 1 and "not in the warehouse: no/such" in typo.output
    assert json.loads(run("query", "--json", "SELECT count(*) AS n FROM model_summaries").output) == [{"n": 0}]


def test_an_spdx_export_of_a_warehouse_nothing_is_classified_in_says_so(run, sample_world, emulator, tmp_path):
    server = emulator(sample_world)
    assert run("crawl", *world_flags(server), "--model", "aurora-labs/aurora-7b").exit_code == 0
    empty = run("export", "--spdx", str(tmp_path / "boms"))
    assert empty.exit_code == 1 and "no model" in empty.output and "openness classify" in empty.output
    assert not (tmp_path / "boms").exists()


def test_a_licence_is_printed_with_its_points_or_as_not_scored():
    from openness.cli.formatting import licence_text
    assert licence_text({"id": "apache-2.0", "points": 5}) == "apache-2.0 (5 points)"
    assert licence_text({"id": "none", "points": 0}) == "none (0 points)"
    assert licence_text({"id": "x", "points": 1}) == "x (1 point)"
    assert licence_text({"id": "other", "points": None}) == "other (not scored)"
    assert licence_text({"id": None, "points": None}) == "unknown (not scored)"


def test_the_demo_hint_names_a_command_that_runs_from_here(tmp_path, monkeypatch):
    """After the Quick start `openness` is not on PATH (the venv is not activated): the hint names
    .venv/bin/openness instead; on PATH, plain `openness`."""
    from openness.cli.crawl import command_name
    script = tmp_path / ".venv" / "bin" / "openness"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert command_name(str(script)) == os.path.join(".venv", "bin", "openness")
    monkeypatch.setattr("shutil.which", lambda name: str(script))
    assert command_name(str(script)) == "openness"
    assert command_name("-c").endswith(" -m openness")  # started some other way


def test_counts_take_the_number_of_their_noun():
    from openness.cli.formatting import counted
    assert [counted(n, "model") for n in (0, 1, 2, 1200)] == ["0 models", "1 model", "2 models", "1,200 models"]
    assert counted(1, "SPDX document") == "1 SPDX document" and counted(3, "repository", "repositories") == "3 repositories"
