"""A Parquet snapshot of every warehouse table, with a manifest that lets a reader check it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from openness.warehouse.db import READ_PARQUET, SCHEMA_VERSION, TABLES, connect, utcnow
from openness.warehouse.staging import file_sha256

MANIFEST = "manifest.json"


@dataclass
class ExportResult:
    out_dir: str
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    run_ids: list[str] = field(default_factory=list)
    manifest: str = ""


def export_snapshot(warehouse_path, out_dir, created_at: str | None = None, progress=None) -> ExportResult:
    """Write <table>.parquet for every table and manifest.json (schema version, run ids, row counts,
    sha256 per file). Uses a read-only connection, so it can run beside a crawl. created_at: the
    manifest's time (default: now); progress(tables written, tables) as it goes."""
    with connect(warehouse_path, read_only=True) as con:
        run_ids = [r[0] for r in con.execute("SELECT run_id FROM crawl_runs ORDER BY started_at").fetchall()]
        result = write_tables(con, Path(out_dir), {table: f"SELECT * FROM {table}" for table in TABLES},
                              extra={"run_ids": run_ids, **({"created_at": created_at} if created_at else {})},
                              progress=progress)
    result.run_ids = run_ids
    return result


def write_tables(con, out: Path, queries: dict[str, str], params=lambda sql: [], extra: dict | None = None,
                 progress=None) -> ExportResult:
    """One <table>.parquet per query, each written under a temporary name and renamed, then the
    manifest last: a folder with a manifest is whole."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    result = ExportResult(out_dir=str(out))
    files = {}
    for table, sql in queries.items():
        path = out / f"{table}.parquet"
        tmp = out / f".{table}.parquet.tmp"
        values = params(sql)
        con.execute(f"COPY ({sql}) TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)", values or None)
        tmp.replace(path)
        result.tables[table] = con.execute(f"SELECT count(*) FROM {READ_PARQUET}", [str(path)]).fetchall()[0][0]
        files[path.name] = {"table": table, "rows": result.tables[table], "sha256": file_sha256(path),
                            "bytes": path.stat().st_size}
        if progress:
            progress(len(files), len(queries))
    manifest = {"format": "openness-snapshot", "schema_version": SCHEMA_VERSION,
                "created_at": utcnow().isoformat() + "Z", **(extra or {}), "files": files}  # extra may set the time
    manifest_path = out / MANIFEST
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    result.manifest = str(manifest_path)
    return result


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
