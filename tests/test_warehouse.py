"""Staging, loading, read-only queries and Parquet snapshots."""
from __future__ import annotations

import hashlib
from datetime import datetime
import json
import threading
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.warehouse.db import SCHEMA_VERSION, TABLES, connect
from openness.warehouse.errors import CrawlLocked, QueryError, WarehouseMissing
from openness.outputs.export import export_snapshot, snapshot_views
from openness.warehouse.load import load_staged
from openness.warehouse.query import run_query
from openness.warehouse.runs import crawl_lock
from openness.warehouse.staging import BatchWriter, arrow_schema, ready_batches, staging_dir


def model_row(model_id="a/b", sha="s1", complete=True):
    return {"model_id": model_id, "sha": sha, "tags": ["x"], "complete": complete, "run_id": "r1"}


def document_row(model_id: str, text: str = "x" * 2000) -> dict:
    return {"run_id": "r1", "model_id": model_id, "sha": "s", "path": "README.md", "url": "u", "http_status": 200,
            "sha256": "h", "size_bytes": len(text), "truncated": False, "text": text,
            "fetched_at": datetime(2026, 1, 1)}


def test_arrow_schema_follows_schema_sql():
    schema = arrow_schema("documents")
    assert schema.names[:4] == ["model_id", "sha", "path", "url"]
    assert str(schema.field("truncated").type) == "bool"


def test_a_batch_is_loaded_once_even_when_staged_files_remain(warehouse, tmp_path):
    root = staging_dir(warehouse)
    writer = BatchWriter(root, "r1")
    writer.add("models", model_row())
    writer.add("fetch_failures", {"run_id": "r1", "url": "u", "reason": "gated", "transient": False,
                                  "failed_at": datetime(2026, 1, 1)})
    batch = writer.write()
    import shutil
    shutil.copytree(batch, tmp_path / "backup")
    assert load_staged(warehouse, root) == 2
    shutil.move(tmp_path / "backup", batch)  # a crawl killed after the commit, before the cleanup
    assert load_staged(warehouse, root) == 0
    assert ready_batches(root) == []
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fetch_failures").fetchone()[0] == 1


def test_half_written_batches_are_discarded(warehouse):
    root = staging_dir(warehouse)
    (root / ".r1-000001.abcd.tmp").mkdir(parents=True)
    assert load_staged(warehouse, root) == 0
    assert list(root.iterdir()) == []


def test_an_incomplete_commit_is_replaced_when_completed(warehouse):
    root = staging_dir(warehouse)
    for complete in (False, True):
        writer = BatchWriter(root, f"r{int(complete)}")
        writer.add("models", model_row(complete=complete))
        writer.write()
        load_staged(warehouse, root)
    assert run_query(warehouse, "SELECT count(*), bool_and(complete) FROM models").rows == [(1, True)]


def test_a_commit_staged_again_replaces_its_findings_and_links(warehouse):
    """Findings of a commit fetched again (incomplete before, or --full) replace the old ones; the
    commits new in the batch, and the other stored ones, keep theirs."""
    def finding(model_id: str, name: str) -> dict:
        return {"finding_id": name, "model_id": model_id, "sha": "s1", "signal": "x", "confidence": 1.0,
                "evidence": "[]", "run_id": "r"}

    def link(model_id: str, target: str) -> dict:
        return {"model_id": model_id, "sha": "s1", "kind": "dataset", "target": target, "signal": "x", "depth": 1,
                "run_id": "r"}

    root = staging_dir(warehouse)
    for run, batch in (("r1", {"a/one": "old", "a/two": "kept"}), ("r2", {"a/one": "new", "a/three": "fresh"})):
        writer = BatchWriter(root, run)
        for model_id, name in batch.items():
            writer.add("models", model_row(model_id))
            writer.add("findings", finding(model_id, name))
            writer.add("model_links", link(model_id, name))
        writer.write()
        load_staged(warehouse, root)
    expected = [("a/one", "new"), ("a/three", "fresh"), ("a/two", "kept")]
    assert run_query(warehouse, "SELECT model_id, finding_id FROM findings ORDER BY 1").rows == expected
    assert run_query(warehouse, "SELECT model_id, target FROM model_links ORDER BY 1").rows == expected


def test_query_is_read_only_and_explains_errors(warehouse):
    with pytest.raises(WarehouseMissing):
        run_query(warehouse, "SELECT 1")
    with connect(warehouse):
        pass
    with pytest.raises(QueryError, match="read-only"):
        run_query(warehouse, "DELETE FROM models")
    with pytest.raises(QueryError):
        run_query(warehouse, "SELEC nonsense")
    assert run_query(warehouse, "SELECT count(*) AS n FROM crawl_runs").columns == ["n"]


def test_query_waits_for_a_batch_load_to_release_the_lock(warehouse):
    with connect(warehouse):
        pass
    holder_ready = threading.Event()

    def hold_write_lock():
        import subprocess
        import sys
        script = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
                  "time.sleep(1.0); c.close()")
        process = subprocess.Popen([sys.executable, "-c", script, warehouse], stdout=subprocess.PIPE, text=True)
        process.stdout.readline()
        holder_ready.set()
        process.wait()

    thread = threading.Thread(target=hold_write_lock)
    thread.start()
    holder_ready.wait(10)
    started = time.monotonic()
    assert run_query(warehouse, "SELECT count(*) FROM models").rows == [(0,)]
    assert time.monotonic() - started >= 0.3  # it waited rather than failing
    thread.join()


def test_one_crawl_at_a_time(warehouse):
    with crawl_lock(warehouse):
        with pytest.raises(CrawlLocked):
            with crawl_lock(warehouse):
                pass


def test_export_writes_every_table_with_a_checkable_manifest(sample_world, emulator, warehouse, tmp_path):
    server = emulator(sample_world)
    run = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, limit=6, **world_endpoints(server)))
    result = export_snapshot(warehouse, tmp_path / "snap")
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["run_ids"] == [run.run_id]
    assert set(manifest["files"]) == {f"{t}.parquet" for t in (*TABLES, *snapshot_views())}
    for name, entry in manifest["files"].items():
        path = tmp_path / "snap" / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert pq.read_table(path).num_rows == entry["rows"] == result.tables[entry["table"]]
        assert duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0] == entry["rows"]
    assert manifest["files"]["models.parquet"]["rows"] == 6
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_parquet(tmp_path / "snap" / "documents.parquet")
    assert len(frame) == manifest["files"]["documents.parquet"]["rows"]


def test_a_warehouse_of_an_older_schema_gains_new_tables_and_columns(warehouse):
    with connect(warehouse):
        pass
    con = duckdb.connect(warehouse)
    con.execute("DROP VIEW family_components")
    con.execute("DROP TABLE model_summaries")
    con.execute("DROP TABLE code_repos")
    con.execute("ALTER TABLE models DROP COLUMN sizes_pending")
    con.execute("INSERT INTO models (model_id, sha, complete, run_id) VALUES ('a/b', 's', true, 'r')")
    con.execute("CREATE TABLE model_summaries (model_id VARCHAR NOT NULL, sha VARCHAR NOT NULL, fully_open INTEGER NOT NULL, "
                "semi_open INTEGER NOT NULL, closed INTEGER NOT NULL, unknown INTEGER NOT NULL, "
                "not_applicable INTEGER NOT NULL, rules_version INTEGER NOT NULL, run_id VARCHAR NOT NULL)")
    con.execute("INSERT INTO model_summaries VALUES ('a/b', 's', 1, 2, 3, 4, 2, 1, 'r')")
    con.execute("DELETE FROM schema_info")
    con.execute("INSERT INTO schema_info VALUES (4, now()::TIMESTAMP)")
    con.close()
    with connect(warehouse) as con:  # opening it for writing brings it up to date, keeping its rows
        columns = {r[0] for r in con.execute("DESCRIBE model_summaries").fetchall()}
        assert {"family", "mof_class", "mof_missing", "osaid", "osaid_missing"} <= columns
        assert con.execute("SELECT fully_open FROM model_summaries").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM code_repos").fetchall() == [(0,)]
        # a model stored before sizes could be pending: not known to be, so no crawl revisits it
        assert con.execute("SELECT model_id, sizes_pending FROM latest_models").fetchall() == [("a/b", None)]
        assert con.execute("SELECT max(version) FROM schema_info").fetchall() == [(SCHEMA_VERSION,)]


def test_a_warehouse_from_before_schema_12_keeps_its_cells_and_loses_the_cells_key(warehouse):
    """Schema 12 drops classifications' primary key (it cost two thirds of every insert): the
    table is rebuilt without it, its rows and the views over it kept."""
    with connect(warehouse):
        pass
    con = duckdb.connect(warehouse)
    con.execute("DROP VIEW family_components")
    con.execute("DROP TABLE classifications")
    con.execute("CREATE TABLE classifications (model_id VARCHAR NOT NULL, sha VARCHAR NOT NULL, component VARCHAR NOT NULL, "
                "level INTEGER, label VARCHAR NOT NULL, reason VARCHAR NOT NULL, licences JSON, points INTEGER, "
                "confidence DOUBLE NOT NULL, finding_ids VARCHAR[], evidence JSON, inherited_from VARCHAR, "
                "rules_version INTEGER NOT NULL, run_id VARCHAR NOT NULL, PRIMARY KEY (model_id, sha, component))")
    con.execute("INSERT INTO classifications VALUES ('a/b', 's', 'deployment.data.weights', 5, 'D5', 'licence', '[]', 5, "
                "0.9, ['f1'], '[]', NULL, 3, 'r')")
    con.execute("DELETE FROM schema_info")
    con.execute("INSERT INTO schema_info VALUES (7, now()::TIMESTAMP)")
    con.close()
    with connect(warehouse) as con:
        assert con.execute("SELECT model_id, label, finding_ids, search FROM classifications").fetchall() == [
            ("a/b", "D5", ["f1"], None)]
        assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'classifications' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchall() == [(0,)]
        not_null = {r[0] for r in con.execute("DESCRIBE classifications").fetchall() if r[2] == "NO"}
        assert {"model_id", "sha", "component", "label", "reason", "confidence", "rules_version", "run_id"} <= not_null
        assert con.execute("SELECT count(*) FROM family_components").fetchall() == [(0,)]  # the view reads the new table
        assert con.execute("SELECT max(version) FROM schema_info").fetchall() == [(SCHEMA_VERSION,)]


def test_batch_loads_leave_row_groups_unmerged(tmp_path):
    """Merging row groups at a checkpoint rewrites them in memory, card texts included: a crawl's
    loads leave each batch its row group (flat memory), a merging connection merges them."""
    from openness.warehouse.load import load_batch

    groups = {}
    for merge in (False, True):
        warehouse = str(tmp_path / f"merge-{merge}.duckdb")
        writer = BatchWriter(staging_dir(warehouse), "r1")
        for batch in range(4):
            for i in range(50):
                writer.add("documents", document_row(f"m{batch}-{i}"))
            with connect(warehouse, merge=merge) as con:
                load_batch(con, writer.write())
        with connect(warehouse, read_only=True) as con:
            groups[merge] = con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('documents')").fetchall()[0][0]
            assert con.execute("SELECT count(*) FROM documents").fetchall()[0][0] == 200
    assert groups == {False: 4, True: 1}


def test_a_batch_load_caps_duckdbs_memory_and_still_loads_what_exceeds_the_cap(tmp_path, caplog):
    """DuckDB's pool defaults to 80% of the machine, and a crawl's loads let it grow by hundreds of
    MB at 200,000 models, so loads are capped. A batch that needs more than the cap at once fails
    under it (DuckDB's OutOfMemoryException) and is loaded again without the cap, whole."""
    from openness.crawler.settings import scrapy_settings
    from openness.warehouse.load import LOAD_MEMORY_MB

    warehouse = str(tmp_path / "w.duckdb")
    writer = BatchWriter(staging_dir(warehouse), "r1")
    with connect(warehouse, memory_limit_mb=16) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "16.0 MiB"
    for i in range(50):  # an ordinary batch loads under the cap
        writer.add("documents", document_row(f"small-{i}"))
    writer.write()
    assert load_staged(warehouse, staging_dir(warehouse), memory_limit_mb=16) == 50 and not caplog.records
    for batch in range(3):
        for i in range(400):  # 400 x 64 KB: 25 MB of text per batch
            writer.add("documents", document_row(f"m{batch}-{i}", f"{batch}-{i} " + "x" * 65530))
        writer.write()
        assert load_staged(warehouse, staging_dir(warehouse), memory_limit_mb=16) == 400
        assert not ready_batches(staging_dir(warehouse))
    assert [r.getMessage().split(" needs ")[1][:24] for r in caplog.records] == ["more than 16 MB at once "] * 3
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*), sum(strlen(text)) FROM documents WHERE model_id LIKE 'm%'").fetchall()[0] == (
            1200, 1200 * 65530 + sum(len(f"{b}-{i} ") for b in range(3) for i in range(400)))
    assert scrapy_settings({})["WAREHOUSE_LOAD_MEMORY_MB"] == LOAD_MEMORY_MB


def test_a_crawls_own_loads_use_the_configured_memory_cap(sample_world, emulator, warehouse, monkeypatch):
    """WAREHOUSE_LOAD_MEMORY_MB caps every load of a crawl: the crawl process's and those of the
    process that runs it (a killed crawl's leftover batches, the last batches, a distributed crawl's
    merge), not only the crawl process's."""
    caps = []

    def recording_connect(path, **kwargs):
        caps.append(kwargs.get("memory_limit_mb"))
        return connect(path, **kwargs)

    monkeypatch.setattr("openness.warehouse.load.connect", recording_connect)
    writer = BatchWriter(staging_dir(warehouse), "killed-run")
    writer.add("documents", document_row("left/over"))
    writer.write()
    server = emulator(sample_world)
    config = CrawlConfig(warehouse=warehouse, use_token=False, limit=2, settings={"WAREHOUSE_LOAD_MEMORY_MB": 64},
                         **world_endpoints(server))
    assert config.load_memory_mb() == 64 and CrawlConfig(warehouse=warehouse).load_memory_mb() == 128
    run_crawl(config)
    assert caps and set(caps) == {64}
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE model_id = 'left/over'").fetchall()[0][0] == 1


def test_a_full_disk_is_said_in_one_line_and_never_called_damage(tmp_path):
    import duckdb

    from openness.warehouse.db import unreadable
    from openness.warehouse.errors import DiskFull, WarehouseUnreadable
    full = unreadable(tmp_path / "w.duckdb", duckdb.IOException('Could not write file "w.duckdb.wal": No space left on device'))
    assert isinstance(full, DiskFull) and "is full" in str(full) and "nothing already stored is lost" in str(full)
    assert "damaged" not in str(full)
    assert isinstance(unreadable(tmp_path / "w.duckdb", OSError(28, "No space left on device")), DiskFull)
    assert isinstance(unreadable(tmp_path / "w.duckdb", duckdb.IOException("not a valid DuckDB file")), WarehouseUnreadable)
