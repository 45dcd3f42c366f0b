"""A Parquet snapshot of every warehouse table, with a manifest that lets a reader check it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.db import SCHEMA_VERSION, TABLES, connect, utcnow

MANIFEST = "manifest.json"


@dataclass
class ExportResult:
    out_dir: str
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    run_ids: list[str] = field(default_factory=list)
    manifest: str = ""


def export_snapshot(warehouse_path, out_dir) -> ExportResult:
    """Write <table>.parquet for every table and manifest.json (schema version, run ids, row counts,
    sha256 per file). Uses a read-only connection, so it can run beside a crawl."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ExportResult(out_dir=str(out))
    files = {}
    with connect(warehouse_path, read_only=True) as con:
        result.run_ids = [r[0] for r in con.execute(
            "SELECT run_id FROM crawl_runs ORDER BY started_at").fetchall()]
        for table in TABLES:
            path = out / f"{table}.parquet"
            tmp = out / f".{table}.parquet.tmp"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
            tmp.replace(path)
            result.tables[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            files[path.name] = {"table": table, "rows": result.tables[table], "sha256": _sha256(path),
                                "bytes": path.stat().st_size}
    manifest = {"format": "openness-snapshot", "schema_version": SCHEMA_VERSION,
                "created_at": utcnow().isoformat() + "Z", "run_ids": result.run_ids, "files": files}
    manifest_path = out / MANIFEST
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    result.manifest = str(manifest_path)
    return result


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
