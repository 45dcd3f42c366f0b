"""Loading staged batches into the warehouse, one transaction per batch, BY NAME."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb

from openness.warehouse.db import READ_PARQUET, connect, transaction, unreadable, utcnow
from openness.warehouse.errors import DiskFull
from openness.warehouse.staging import STAGED_TABLES, discard_partial, ready_batches

# Commits are immutable, so a row already stored for a key describes the same thing; a re-fetch of
# an incomplete commit only adds what the first fetch missed (a file tree that failed, say), and
# never erases what it had. A file's `unread` is the newest fetch's word: it carries on what the
# earlier ones said of the files it did not ask for, and clears it for a file it read.
_SELECT_PARQUET = f"SELECT * FROM {READ_PARQUET}"
_INSERT = {
    "models": f"INSERT OR REPLACE INTO models BY NAME SELECT * FROM {READ_PARQUET}",
    "repo_files": f"INSERT INTO repo_files BY NAME SELECT * FROM {READ_PARQUET} "
                  "ON CONFLICT (model_id, sha, path) DO UPDATE SET size = coalesce(EXCLUDED.size, repo_files.size), "
                  "lfs_sha256 = coalesce(EXCLUDED.lfs_sha256, repo_files.lfs_sha256), "
                  "blob_id = coalesce(EXCLUDED.blob_id, repo_files.blob_id), unread = EXCLUDED.unread",
    # ... except a README read from a card dump: the file fetched from the repo itself replaces it
    # (a batch staged before schema 18 has no dump columns: the union gives it them, NULL)
    "documents": f"INSERT INTO documents BY NAME SELECT * FROM ({_SELECT_PARQUET} "
                 "UNION ALL BY NAME SELECT NULL::VARCHAR AS dump_dataset, NULL::VARCHAR AS dump_revision, "
                 "NULL::VARCHAR AS dump_file, NULL::BIGINT AS dump_row, NULL::TIMESTAMP AS dump_date WHERE false) "
                 "QUALIFY row_number() OVER (PARTITION BY model_id, sha, path ORDER BY dump_dataset NULLS FIRST) = 1 "
                 "ON CONFLICT (model_id, sha, path) DO UPDATE SET " + ", ".join(
                     f"{c} = EXCLUDED.{c}" for c in ("url", "http_status", "sha256", "size_bytes", "encoding",
                                                     "truncated", "text", "fetched_at", "run_id", "dump_dataset",
                                                     "dump_revision", "dump_file", "dump_row", "dump_date"))
                 + " WHERE documents.dump_dataset IS NOT NULL AND EXCLUDED.dump_dataset IS NULL",
    "fetch_failures": f"INSERT INTO fetch_failures BY NAME SELECT * FROM {READ_PARQUET}",
    "vanished_models": f"INSERT OR REPLACE INTO vanished_models BY NAME SELECT * FROM {READ_PARQUET}",
    "model_stats": f"INSERT OR IGNORE INTO model_stats BY NAME SELECT * FROM {READ_PARQUET}",
    "findings": f"INSERT OR REPLACE INTO findings BY NAME SELECT * FROM {READ_PARQUET}",
    "model_links": f"INSERT OR REPLACE INTO model_links BY NAME SELECT * FROM {READ_PARQUET} "
                   "QUALIFY row_number() OVER (PARTITION BY model_id, sha, kind, target ORDER BY depth) = 1",
    # A target's newest outcome wins, except that a deferral or a passing failure never hides an
    # outcome that was settled: the target stays resolved and is tried again later.
    "link_targets": f"INSERT INTO link_targets BY NAME SELECT * FROM {READ_PARQUET} "
                    "QUALIFY row_number() OVER (PARTITION BY kind, target ORDER BY checked_at DESC) = 1 "
                    "ON CONFLICT (kind, target) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, "
                    "transient = EXCLUDED.transient, http_status = EXCLUDED.http_status, "
                    "resolved_id = coalesce(EXCLUDED.resolved_id, link_targets.resolved_id), message = EXCLUDED.message, "
                    "retry_after = EXCLUDED.retry_after, depth = least(EXCLUDED.depth, link_targets.depth), "
                    "attempts = link_targets.attempts + 1, checked_at = EXCLUDED.checked_at, run_id = EXCLUDED.run_id "
                    "WHERE NOT (link_targets.status = 'resolved' AND NOT link_targets.transient "
                    "AND (EXCLUDED.status = 'deferred' OR (EXCLUDED.status = 'failed' AND EXCLUDED.transient)))",
    "datasets": f"INSERT OR REPLACE INTO datasets BY NAME SELECT * FROM {READ_PARQUET} "
                "QUALIFY row_number() OVER (PARTITION BY dataset_id, sha ORDER BY complete DESC) = 1",
    "code_repos": f"INSERT OR REPLACE INTO code_repos BY NAME SELECT * FROM {READ_PARQUET} "
                  "QUALIFY row_number() OVER (PARTITION BY repo, tree_sha ORDER BY complete DESC) = 1",
    "linked_documents": f"INSERT OR IGNORE INTO linked_documents BY NAME SELECT * FROM {READ_PARQUET}",
    "papers": f"INSERT INTO papers BY NAME SELECT * FROM {READ_PARQUET} "
              "QUALIFY row_number() OVER (PARTITION BY paper_id ORDER BY fetched DESC) = 1 "
              "ON CONFLICT (paper_id) DO UPDATE SET url = EXCLUDED.url, title = EXCLUDED.title, "
              "abstract = EXCLUDED.abstract, fetched = EXCLUDED.fetched, note = EXCLUDED.note, run_id = EXCLUDED.run_id "
              "WHERE EXCLUDED.fetched OR NOT papers.fetched",
}
# A batch load's cap on DuckDB's buffer pool. A fresh instance per batch reads the blocks it needs
# (index and table blocks) into the pool; at DuckDB's default limit (80% of the machine) nothing is
# evicted, and in a 200,000-model crawl one load in ~50 grew the crawl process by 130-600 MB, more
# as the warehouse grew. Capped, the pool evicts clean blocks and reads them again instead. A batch
# that needs more than the cap at once (a column of megabyte cards) is loaded again uncapped.
LOAD_MEMORY_MB = 128

logger = logging.getLogger(__name__)

# A commit's findings (and the links they make) are the output of one extraction: re-staging a
# commit replaces all of them.
_CLEAR = {table: f"DELETE FROM {table} WHERE (model_id, sha) IN (SELECT unnest($ids), unnest($shas))"
          for table in ("findings", "model_links")}


def load_batch(con, batch: Path) -> int:
    """Load one staged batch inside the caller's connection; returns the rows read."""
    batch_id = batch.name
    if con.execute("SELECT 1 FROM loaded_batches WHERE batch_id = ?", [batch_id]).fetchone():
        return 0
    run_id = batch_id.rsplit("-", 1)[0]
    rows = 0
    with transaction(con):
        restaged = _stored_commits(con, batch)
        for table in STAGED_TABLES:
            path = batch / f"{table}.parquet"
            if path.exists():
                rows += con.execute(f"SELECT count(*) FROM {READ_PARQUET}", [str(path)]).fetchone()[0]
                if table == "findings" and restaged:
                    for clear in _CLEAR.values():
                        con.execute(clear, {"ids": [m for m, _ in restaged], "shas": [s for _, s in restaged]})
                con.execute(_INSERT[table], [str(path)])
        con.execute("INSERT INTO loaded_batches VALUES (?, ?, ?, ?)", [batch_id, run_id, rows, utcnow()])
    return rows


def _stored_commits(con, batch: Path) -> list[tuple[str, str]]:
    """The batch's commits the warehouse already holds (an incomplete commit fetched again, a --full
    crawl): only theirs have findings and links to clear. Asked of the models table before the batch
    is inserted; a crawl's new commits then clear nothing, where a delete over the findings table
    would read all of it (and hold its blocks) for every batch."""
    files = [str(batch / f"{table}.parquet") for table in ("models", "findings", "model_links")
             if (batch / f"{table}.parquet").exists()]
    if not files:
        return []
    return con.execute("SELECT model_id, sha FROM models WHERE (model_id, sha) IN "
                       "(SELECT DISTINCT model_id, sha FROM read_parquet(?, union_by_name = true, hive_partitioning = false))", [files]).fetchall()


def load_staged(warehouse_path, staging_root, discard: bool = True, memory_limit_mb: int = LOAD_MEMORY_MB) -> int:
    """Load every ready batch under staging_root, oldest first, and remove it once committed.
    discard: first remove half-written batches a killed crawl left; never while other writers
    (distributed workers) may be writing theirs. memory_limit_mb: DuckDB's buffer pool cap."""
    if discard:
        discard_partial(staging_root)
    batches = ready_batches(staging_root)
    rows = 0
    try:
        for cap in (memory_limit_mb, None):
            if batches:
                with connect(warehouse_path, memory_limit_mb=cap) as con:
                    rows += _load_in_order(con, batches, cap)
    except (duckdb.IOException, OSError) as exc:  # a batch not loaded stays staged for the next load
        found = unreadable(warehouse_path, exc)
        if isinstance(found, DiskFull):
            raise found from exc
        raise
    return rows


def _load_in_order(con, batches: list[Path], cap: int | None) -> int:
    """Load batches oldest first, removing each once committed. Under a cap, stop at a batch that
    needs more than the cap at once and leave it (and the rest) in the list."""
    rows = 0
    while batches:
        try:
            rows += load_batch(con, batches[0])
        except duckdb.OutOfMemoryException as exc:
            if cap is None:
                raise
            logger.warning("batch %s needs more than %d MB at once (%s); loading it without the cap",
                           batches[0].name, cap, exc)
            return rows
        shutil.rmtree(batches.pop(0), ignore_errors=True)
    return rows
