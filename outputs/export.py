"""A Parquet snapshot of every warehouse table, with a manifest that lets a reader check it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from openness.warehouse.db import READ_PARQUET, SCHEMA_VERSION, TABLES, connect, latest_views, utcnow
from openness.warehouse.staging import file_sha256

MANIFEST = "manifest.json"
# Views of the current state a whole snapshot holds as tables of their own, beside the full history:
# a reader of the Parquet files has no views. Files and documents are left out: they are the bulk
# of a snapshot, and latest_models' (model_id, sha) picks their current rows.
LEFT_OUT_LATEST = ("latest_repo_files", "latest_documents")


# Each view's key: a view's rows come in no fixed order (a window, a join), and a snapshot of an
# unchanged warehouse must be the same bytes (publishing it again commits nothing).
VIEW_ORDER = {"latest_models": "model_id", "latest_classifications": "model_id, component",
              "latest_summaries": "model_id", "latest_findings": "model_id, finding_id",
              "latest_links": "model_id, kind, target", "latest_datasets": "dataset_id", "latest_code_repos": "repo",
              "latest_cell_licences": "model_id, component, licence_id, source, points"}


def snapshot_views() -> list[str]:
    return [view for view in latest_views() if view not in LEFT_OUT_LATEST]


def snapshot_queries() -> dict[str, str]:
    """Every table as it is, then each view of the current state in its key's order."""
    return {**{table: f"SELECT * FROM {table}" for table in TABLES},
            **{view: f"SELECT * FROM {view} ORDER BY {VIEW_ORDER[view]}" for view in snapshot_views()}}


@dataclass
class ExportResult:
    out_dir: str
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    run_ids: list[str] = field(default_factory=list)
    manifest: str = ""


def export_snapshot(warehouse_path, out_dir, created_at: str | None = None, progress=None) -> ExportResult:
    """Write <table>.parquet for every table and for the views of the current state (snapshot_views),
    and manifest.json (schema version, run ids, row counts, sha256 per file). Uses a read-only
    connection, so it can run beside a crawl. created_at: the manifest's time (default: now);
    progress(tables written, tables) as it goes."""
    with connect(warehouse_path, read_only=True) as con:
        run_ids = [r[0] for r in con.execute("SELECT run_id FROM crawl_runs ORDER BY started_at").fetchall()]
        result = write_tables(con, Path(out_dir), snapshot_queries(),
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
