"""Run snapshots and retention. Every crawl run is a snapshot: the models its selection listed
(model_stats), the commits they were at and everything known of those commits (files, documents,
findings, links, classifications), what the links led to, and the run's failures and vanished
models. `export_run` writes one run as a dated folder of Parquet files; `retain` keeps the last N
runs in the warehouse and compacts older ones: each is archived as such a folder (its manifest
checked) before its rows leave the warehouse, and its crawl_runs row says where the archive is."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from openness.warehouse.db import READ_PARQUET, connect, transaction, utcnow
from openness.outputs.errors import NoSuchSnapshot, OutputError
from openness.outputs.export import ExportResult, MANIFEST, write_tables
from openness.warehouse.runs import crawl_lock


# The rows of one run, table by table, each a query over $run.
_COMMITS = "SELECT model_id, sha FROM model_stats WHERE run_id = $run"
_TARGETS = (f"SELECT DISTINCT kind, target FROM model_links WHERE (model_id, sha) IN ({_COMMITS}) UNION "
            f"SELECT DISTINCT kind, target FROM paper_code_links WHERE (model_id, sha) IN ({_COMMITS})")
_RESOLVED = f"SELECT kind, coalesce(resolved_id, target) FROM link_targets WHERE (kind, target) IN ({_TARGETS})"
RUN_SCOPE = {
    "crawl_runs": "SELECT * FROM crawl_runs WHERE run_id = $run",
    "model_stats": "SELECT * FROM model_stats WHERE run_id = $run",
    "fetch_failures": "SELECT * FROM fetch_failures WHERE run_id = $run",
    "vanished_models": "SELECT * FROM vanished_models WHERE run_id = $run",
    **{table: f"SELECT * FROM {table} WHERE (model_id, sha) IN ({_COMMITS})"
       for table in ("models", "repo_files", "documents", "findings", "model_links", "classifications",
                     "model_summaries")},
    "link_targets": f"SELECT * FROM link_targets WHERE (kind, target) IN ({_TARGETS})",
    "datasets": f"SELECT * FROM datasets WHERE ('dataset', dataset_id) IN ({_RESOLVED})",
    "code_repos": f"SELECT * FROM code_repos WHERE ('code', repo) IN ({_RESOLVED})",
    "linked_documents": f"SELECT * FROM linked_documents WHERE (kind, target) IN ({_RESOLVED})",
    "papers": f"SELECT * FROM papers WHERE ('paper', paper_id) IN ({_RESOLVED})",
}


def snapshot_name(run_id: str, started_at) -> str:
    return f"{started_at:%Y-%m-%d}_{run_id}"


def export_run(warehouse_path, run_id: str, out_root, progress=None) -> ExportResult:
    """Write run RUN's snapshot to <out_root>/<date>_<run id>/ ('latest': the newest crawl);
    progress(tables written, tables) as it goes."""
    with connect(warehouse_path, read_only=True) as con:
        return _export_run(con, _run_row(con, run_id), Path(out_root), progress)


def _run_row(con, run_id: str) -> tuple[str, object, object]:
    if run_id == "latest":
        row = con.execute("SELECT run_id, started_at, compacted_at FROM crawl_runs WHERE models_seen > 0 "
                          "ORDER BY started_at DESC LIMIT 1").fetchall()
    else:
        row = con.execute("SELECT run_id, started_at, compacted_at FROM crawl_runs WHERE run_id = ?", [run_id]).fetchall()
    if not row:
        raise NoSuchSnapshot(f"no crawl run {run_id!r} in this warehouse (see: SELECT run_id FROM crawl_runs)")
    run, started_at, compacted_at = row[0]
    if compacted_at is not None:
        archive = con.execute("SELECT archive FROM crawl_runs WHERE run_id = ?", [run]).fetchall()[0][0]
        raise NoSuchSnapshot(f"run {run} was compacted on {compacted_at:%Y-%m-%d}; its snapshot is {archive}")
    return row[0]


def _export_run(con, run_row, out_root: Path, progress=None) -> ExportResult:
    run_id, started_at, _ = run_row
    out = out_root / snapshot_name(run_id, started_at)
    queries = {table: sql.replace("$run", "?") for table, sql in RUN_SCOPE.items()}
    result = write_tables(con, out, queries, params=lambda sql: [run_id] * sql.count("?"),
                          extra={"run_id": run_id, "run_started_at": started_at.isoformat() + "Z"}, progress=progress)
    result.run_ids = [run_id]
    return result


@dataclass
class RetainResult:
    kept: list[str] = field(default_factory=list)
    compacted: dict[str, str] = field(default_factory=dict)   # run id -> archive folder
    rows_removed: dict[str, int] = field(default_factory=dict)


def retain(warehouse_path, keep: int, archive_root) -> RetainResult:
    """Keep the newest `keep` crawl runs' rows; archive and then remove the older runs' rows: their
    per-run rows, and the commits no kept run lists (the newest commit of every model always stays).
    Takes the crawl lock, so it never runs beside a crawl."""
    if keep < 1:
        raise OutputError("retention must keep at least one run")
    archive_root = Path(archive_root)
    result = RetainResult()
    with crawl_lock(warehouse_path), connect(warehouse_path, merge=True) as con:
        runs = con.execute("SELECT run_id, started_at, compacted_at FROM crawl_runs WHERE compacted_at IS NULL "
                           "AND status <> 'running' ORDER BY started_at DESC").fetchall()
        result.kept = [r[0] for r in runs[:keep]]
        for row in reversed(runs[keep:]):
            result.compacted[row[0]] = str(_archive(con, row, archive_root))
        if result.compacted:
            result.rows_removed = _remove(con, result.compacted)
            con.execute("CHECKPOINT")
    return result


def _archive(con, run_row, archive_root: Path) -> Path:
    """The run's snapshot, written now or already there from a nightly export; checked either way."""
    out = archive_root / snapshot_name(run_row[0], run_row[1])
    if not _snapshot_matches(con, out, run_row[0]):
        shutil.rmtree(out, ignore_errors=True)
        _export_run(con, run_row, archive_root)
        if not _snapshot_matches(con, out, run_row[0]):
            raise OutputError(f"the archive of run {run_row[0]} at {out} does not match the warehouse; nothing removed")
    return out


def _snapshot_matches(con, out: Path, run_id: str) -> bool:
    """An archive counts only if its manifest names the run and every table holds the run's rows."""
    try:
        manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("run_id") != run_id:
        return False
    for table, sql in RUN_SCOPE.items():
        entry = manifest.get("files", {}).get(f"{table}.parquet")
        path = out / f"{table}.parquet"
        if entry is None or not path.exists():
            return False
        stored = con.execute(f"SELECT count(*) FROM {READ_PARQUET}", [str(path)]).fetchall()[0][0]
        wanted = con.execute(f"SELECT count(*) FROM ({sql})", {"run": run_id}).fetchall()[0][0]
        if stored != wanted or entry.get("rows") != wanted:
            return False
    return True


def _remove(con, archives: dict[str, str]) -> dict[str, int]:
    runs = list(archives)
    removed: dict[str, int] = {}
    try:
        with transaction(con):
            con.execute("CREATE TEMP TABLE gone_runs AS SELECT unnest(?::VARCHAR[]) AS run_id", [runs])
            for table in ("model_stats", "fetch_failures", "vanished_models", "loaded_batches"):
                removed[table] = con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT run_id FROM gone_runs)").fetchall()[0][0]
            # commits no kept run listed, other than each model's newest (base models, links and
            # classification still read it)
            con.execute("""CREATE TEMP TABLE gone_commits AS
                SELECT model_id, sha FROM models
                EXCEPT SELECT model_id, sha FROM model_stats
                EXCEPT SELECT model_id, sha FROM latest_models""")
            for table in ("repo_files", "documents", "findings", "model_links", "classifications", "model_summaries",
                          "models"):
                removed[table] = con.execute(f"DELETE FROM {table} WHERE (model_id, sha) IN "
                                             "(SELECT model_id, sha FROM gone_commits)").fetchall()[0][0]
            now = utcnow()
            for run_id, archive in archives.items():
                con.execute("UPDATE crawl_runs SET compacted_at = ?, archive = ? WHERE run_id = ?", [now, archive, run_id])
    finally:
        con.execute("DROP TABLE IF EXISTS gone_runs")
        con.execute("DROP TABLE IF EXISTS gone_commits")
    return removed
