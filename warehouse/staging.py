"""Staging: rows buffered by table, written as one Parquet file per table per batch.

A batch folder appears under its final name only once every file in it is written (rename is
atomic), so a crawl killed while staging leaves either a whole batch or nothing.
"""
from __future__ import annotations

import functools
import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.db import schema_sql

STAGED_TABLES = ("models", "repo_files", "documents", "fetch_failures", "model_stats", "findings", "model_links",
                 "link_targets", "datasets", "code_repos", "linked_documents", "papers", "vanished_models")


@functools.cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, read off schema.sql so the two never drift."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        return con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema
    finally:
        con.close()


def staging_dir(warehouse_path: str | os.PathLike) -> Path:
    return Path(f"{warehouse_path}.staging")


class BatchWriter:
    """Buffers rows per table and writes them as staged batches."""

    def __init__(self, root: str | os.PathLike, run_id: str, tag: str = ""):
        self.root = Path(root)
        self.run_id = run_id
        self.tag = tag  # e.g. "w2.": several writers (workers) staging one run into one folder
        self.rows: dict[str, list[dict]] = {t: [] for t in STAGED_TABLES}
        self.sequence = 0

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def write(self) -> Path | None:
        """Stage what is buffered as one batch; return its folder (None when nothing was buffered)."""
        if not self.pending():
            return None
        self.sequence += 1
        batch_id = f"{self.run_id}-{self.tag}{self.sequence:06d}"  # the run id is what precedes the last '-'
        final = self.root / batch_id
        temp = self.root / f".{batch_id}.{uuid.uuid4().hex[:8]}.tmp"
        temp.mkdir(parents=True)
        for table, rows in self.rows.items():
            if rows:
                data = pa.Table.from_pylist(rows, schema=arrow_schema(table))
                pq.write_table(data, temp / f"{table}.parquet")
        os.replace(temp, final)
        self.rows = {t: [] for t in STAGED_TABLES}
        return final


def ready_batches(root: str | os.PathLike) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def discard_partial(root: str | os.PathLike) -> int:
    """Remove half-written batch folders left by a killed crawl; they hold no committed rows."""
    root = Path(root)
    removed = 0
    if root.is_dir():
        for path in root.glob(".*.tmp"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
