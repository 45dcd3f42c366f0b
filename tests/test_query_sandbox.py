"""`openness query` reads the warehouse and nothing else (issue: a read-only connection still
wrote files, read /etc/passwd and attached other databases read-write)."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.warehouse.db import connect
from openness.warehouse.errors import QueryError
from openness.warehouse.query import run_query, run_statements
from openness.warehouse.staging import staging_dir


@pytest.fixture
def stocked(warehouse):
    with connect(warehouse) as con:
        con.execute("INSERT INTO models (model_id, sha, complete, run_id, license) VALUES ('a/b', 's1', true, 'r1', 'mit')")
    return warehouse


@pytest.mark.parametrize("sql", [
    "COPY models TO '{out}/stolen.csv'",
    "EXPORT DATABASE '{out}/dump'",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM read_text('{secret}')",
    "SELECT * FROM glob('{out}/*')",
    "SELECT * FROM '{secret}'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
])
def test_statements_that_reach_outside_the_warehouse_are_refused(stocked, tmp_path, sql):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QueryError, match="refused: openness query reads the warehouse and nothing else"):
        run_query(stocked, sql.format(out=out, secret=secret))
    assert list(out.iterdir()) == []


def test_attaching_another_database_read_write_is_refused(stocked, tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(QueryError, match="refused"):
        run_statements(stocked, f"ATTACH '{other}' AS o (READ_WRITE); DELETE FROM o.t")
    with duckdb.connect(str(other)) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_query_cannot_plant_a_batch_in_staging(stocked):
    target = staging_dir(stocked) / "run-x-000001"
    with pytest.raises(QueryError, match="refused"):
        run_query(stocked, f"COPY (SELECT *, 'pwned' AS license FROM models) TO '{target}/models.parquet'")
    assert not target.exists()


def test_reading_the_warehouse_still_works(stocked):
    assert run_query(stocked, "SELECT model_id, license FROM models").rows == [("a/b", "mit")]
    results = run_statements(stocked, "SELECT 1 AS one; SELECT model_id FROM models;")
    assert [(r.columns, r.rows) for r in results] == [(["one"], [(1,)]), (["model_id"], [("a/b",)])]
    with pytest.raises(QueryError, match="no SQL statement"):
        run_query(stocked, "  ;  ")
    with pytest.raises(QueryError, match="read-only"):
        run_query(stocked, "DELETE FROM models")


def test_cli_says_why_a_statement_was_refused_and_prints_every_statement(stocked, tmp_path):
    runner = CliRunner()
    refused = runner.invoke(cli, ["--warehouse", stocked, "query", f"COPY models TO '{tmp_path}/x.csv'"])
    assert refused.exit_code == 1 and "refused" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "x.csv").exists()
    empty = runner.invoke(cli, ["--warehouse", stocked, "query", ""])
    assert empty.exit_code == 1 and "no SQL statement" in empty.output
    both = runner.invoke(cli, ["--warehouse", stocked, "query", "SELECT 1 AS one; SELECT 2 AS two"])
    assert both.exit_code == 0 and "-- SELECT 1 AS one" in both.output and "two" in both.output
    as_json = json.loads(runner.invoke(cli, ["--warehouse", stocked, "query", "--json", "SELECT 1 AS one; SELECT 2 AS two"]).output)
    assert as_json == [{"statement": "SELECT 1 AS one;", "rows": [{"one": 1}]}, {"statement": "SELECT 2 AS two", "rows": [{"two": 2}]}]


@pytest.mark.parametrize("sql", [
    "SELECT content FROM read_blob('{warehouse}')",                    # the raw database, bytes and all
    "COPY (SELECT 1) TO '{warehouse}.tmp/planted.csv'",                # DuckDB's spill folder
    "SELECT * FROM read_text('{warehouse}.tmp/planted.csv')",
    "SET temp_directory = '{warehouse}.tmp'",
    "SET disabled_filesystems = ''",
])
def test_the_warehouse_file_and_its_spill_folder_are_out_of_reach_too(stocked, sql):
    (Path(stocked + ".tmp")).mkdir(exist_ok=True)
    (Path(stocked + ".tmp") / "planted.csv").write_text("a\n1\n")
    with pytest.raises(QueryError) as refused:
        run_query(stocked, sql.format(warehouse=stocked))
    assert "refused" in str(refused.value)
    assert run_query(stocked, "SELECT model_id FROM models").rows == [("a/b",)]  # the tables still read


@pytest.mark.parametrize("sql", ["SELECT count(*) FROM range(1000000000000)",
                                 "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"])
def test_a_query_past_its_time_is_stopped_with_a_message(stocked, sql):
    with pytest.raises(QueryError) as stopped:
        run_query(stocked, sql, max_seconds=0.3)
    assert "ran past 0.3 s" in str(stopped.value) and "--max-seconds" in str(stopped.value)


def test_a_query_past_its_memory_is_stopped_with_a_message(stocked):
    with pytest.raises(QueryError) as stopped:
        run_query(stocked, "SELECT list(range ORDER BY range DESC) FROM range(50000000)", max_memory_mb=64)
    assert "more than 64 MB" in str(stopped.value) and "--max-memory-mb" in str(stopped.value)
    result = CliRunner().invoke(cli, ["--warehouse", stocked, "query", "--max-seconds", "0.3",
                                      "SELECT count(*) FROM range(1000000000000)"])
    assert result.exit_code == 1 and "ran past 0.3 s" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("sql", [
    "SELECT length(repeat('x', 2000000000))",  # one value of 2 GB, outside DuckDB's buffer pool
    "SELECT repeat('y', 1500000000) AS v",
    "SELECT length(string_agg(repeat('z', 100000000), '')) FROM range(20)",
])
def test_one_huge_value_is_stopped_at_the_memory_limit_too(stocked, sql):
    """DuckDB's memory limit misses a single huge allocation; the query process caps its own
    address space, so the value fails as out of memory at the limit (a process of its own, as
    the command is: the cap holds for all of it)."""
    import resource
    import subprocess
    import sys
    command = [sys.executable, "-m", "openness", "--warehouse", stocked, "query", "--max-memory-mb", "256", sql]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert "more than 256 MB" in done.stderr and "--max-memory-mb" in done.stderr
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert children < 1500  # MB: the process never came near the value's size


def test_the_address_space_cap_is_lifted_after_the_query(stocked):
    import resource
    before = resource.getrlimit(resource.RLIMIT_AS)
    assert run_statements(stocked, "SELECT 1", max_memory_mb=128, cap_process=True)[0].rows == [(1,)]
    with pytest.raises(QueryError, match="more than 128 MB"):
        run_statements(stocked, "SELECT length(repeat('x', 2000000000))", max_memory_mb=128, cap_process=True)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(2**30)) == 2**30  # the process may map a gigabyte again (past the cap it had)


def test_escape_sequences_in_stored_text_never_reach_the_terminal_raw(warehouse):
    """An id or a card may hold ESC (CSI, OSC: a terminal's title, a hyperlink, a clipboard write)
    or their one-byte C1 forms: a table shows them written out, JSON escapes them."""
    hostile = "evil/a\x1b]52;c;cGF5bG9hZA==\x07b\x9b2Jc\x9d0;title\x9c"
    with connect(warehouse) as con:
        con.execute("INSERT INTO models (model_id, sha, complete, run_id) VALUES (?, 's1', true, 'r1')", [hostile])
    for fmt in ([], ["--json"]):
        result = CliRunner().invoke(cli, ["--warehouse", warehouse, "query", "SELECT model_id FROM models", *fmt])
        assert result.exit_code == 0 and not any(c in result.output for c in "\x1b\x07\x9b\x9d\x9c")
    table = CliRunner().invoke(cli, ["--warehouse", warehouse, "query", "SELECT model_id FROM models"]).output
    assert "evil/a\\x1b]52;c;cGF5bG9hZA==\\x07b\\x9b2Jc" in table
    as_json = CliRunner().invoke(cli, ["--warehouse", warehouse, "query", "--json", "SELECT model_id FROM models"]).output
    assert json.loads(as_json) == [{"model_id": hostile}]
