"""Staging loads only batches this crawler wrote; anything else is moved aside, never loaded and
never fatal (issue: a parquet file copied into staging set license = 'pwned' on every model, and a
folder named zz=b made every later crawl exit 1)."""
from __future__ import annotations

import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq

from openness.warehouse.db import connect
from openness.warehouse.load import load_staged
from openness.warehouse.staging import MANIFEST, BatchWriter, arrow_schema, quarantine_dir, staging_dir


def stage_model(root, run_id="r1", license="mit"):
    writer = BatchWriter(root, run_id)
    writer.add("models", {"model_id": "a/b", "sha": "s1", "complete": True, "run_id": run_id, "license": license})
    return writer.write()


def licences(warehouse):
    with connect(warehouse, read_only=True) as con:
        return con.execute("SELECT license FROM models ORDER BY 1").fetchall()


def plant(folder, license="pwned"):
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{"model_id": "a/b", "sha": "s1", "complete": True, "run_id": "x", "license": license}],
                                 schema=arrow_schema("models"))
    pq.write_table(table, folder / "models.parquet")


def test_a_batch_carries_a_manifest_of_its_files(warehouse):
    batch = stage_model(staging_dir(warehouse))
    manifest = json.loads((batch / MANIFEST).read_text())
    assert manifest["batch"] == batch.name and manifest["run_id"] == "r1"
    assert set(manifest["files"]) == {"models.parquet"} and manifest["files"]["models.parquet"]["rows"] == 1
    assert len(manifest["files"]["models.parquet"]["sha256"]) == 64


def test_planted_and_altered_batches_are_quarantined_not_loaded(warehouse, caplog):
    root = staging_dir(warehouse)
    stage_model(root)
    plant(root / "run-x-000001")                    # no manifest
    plant(root / "zz=b")                            # a hive-style name
    (root / "stray.parquet").write_bytes(b"PAR1")   # a file, not a folder
    altered = stage_model(root, run_id="r2", license="apache-2.0")
    plant(altered, license="pwned")                 # rewritten after its manifest
    forged = stage_model(root, run_id="r3")
    (forged / "extra.parquet").write_bytes(b"x")    # a file the manifest does not list
    with caplog.at_level(logging.WARNING):
        assert load_staged(warehouse, root) == 1
    assert licences(warehouse) == [("mit",)]
    assert list(root.iterdir()) == []
    moved = sorted(p.name for p in quarantine_dir(root).iterdir())
    assert moved == sorted([altered.name, forged.name, "run-x-000001", "stray.parquet", "zz=b"])
    assert sum("not a batch this crawler wrote" in r.message for r in caplog.records) == 5
    # and the next load finds staging clean
    stage_model(root, run_id="r4", license="mit")
    assert load_staged(warehouse, root) == 1


def test_a_warehouse_under_a_hive_style_folder_loads(tmp_path):
    warehouse = str(tmp_path / "year=2026" / "w.duckdb")
    stage_model(staging_dir(warehouse))
    assert load_staged(warehouse, staging_dir(warehouse)) == 1
    assert licences(warehouse) == [("mit",)]
