"""Staging: rows buffered by table, written as one Parquet file per table per batch.

A batch folder appears under its final name only once every file in it is written (rename is
atomic), so a crawl killed while staging leaves either a whole batch or nothing. Its manifest
(each file's sha256 and rows, written last) is what makes it a batch: only folders whose manifest
matches their files are loaded; anything else found in staging (a file dropped there, a folder
planted or altered) is moved to the quarantine folder beside it, with a warning, and never loaded.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from openness.warehouse.db import schema_sql

STAGED_TABLES = ("models", "repo_files", "documents", "fetch_failures", "model_stats", "findings", "model_links",
                 "link_targets", "datasets", "code_repos", "linked_documents", "papers", "vanished_models")


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, read off schema.sql so the two never drift."""
    return _arrow_schemas()[table]


@functools.cache
def _arrow_schemas() -> dict[str, pa.Schema]:
    """Every table's Arrow schema, from one in-memory copy of the schema (making one costs ~30 ms:
    once a process, not once a table)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        return {table: con.sql(f'SELECT * FROM "{table}" LIMIT 0').to_arrow_table().schema for table in tables}
    finally:
        con.close()


MANIFEST = "manifest.json"
logger = logging.getLogger(__name__)


def staging_dir(warehouse_path: str | os.PathLike) -> Path:
    return Path(f"{warehouse_path}.staging")


def quarantine_dir(staging_root: str | os.PathLike) -> Path:
    """Where what staging must not load is moved: <warehouse>.quarantine beside <warehouse>.staging."""
    root = Path(staging_root)
    return root.with_name(root.name.removesuffix(".staging") + ".quarantine")


class BatchWriter:
    """Buffers rows per table and writes them as staged batches."""

    def __init__(self, root: str | os.PathLike, run_id: str, tag: str = ""):
        self.root = Path(root)
        self.run_id = run_id
        self.tag = tag  # e.g. "w2.": several writers (workers) staging one run into one folder
        self.rows: dict[str, list[dict]] = {t: [] for t in STAGED_TABLES}
        self.sequence = 0
        self.repaired = 0      # rows staged with a value left out (arrow_rows)
        self.lost_models = 0   # models of batches that could not be written

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def write(self) -> Path | None:
        """Stage what is buffered as one batch; return its folder (None when nothing was buffered).
        The buffer is emptied whatever happens: a batch that fails (a full disk) is lost with its
        error, and never blocks the batches after it."""
        if not self.pending():
            return None
        self.sequence += 1
        batch_id = f"{self.run_id}-{self.tag}{self.sequence:06d}"  # the run id is what precedes the last '-'
        final = self.root / batch_id
        temp = self.root / f".{batch_id}.{uuid.uuid4().hex[:8]}.tmp"
        buffered, self.rows = self.rows, {t: [] for t in STAGED_TABLES}
        try:
            temp.mkdir(parents=True)
            files = {}
            for table, rows in buffered.items():
                if rows:
                    data, repaired = arrow_rows(table, rows)
                    self.repaired += repaired
                    pq.write_table(data, temp / f"{table}.parquet")
                    files[f"{table}.parquet"] = {"sha256": file_sha256(temp / f"{table}.parquet"), "rows": len(rows)}
            manifest = {"batch": batch_id, "run_id": self.run_id, "files": files}
            (temp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
            os.replace(temp, final)
        except BaseException:
            self.lost_models += len(buffered["models"])
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return final


def arrow_rows(table: str, rows: list[dict]) -> tuple[pa.Table, int]:
    """Rows as an Arrow table of the table's schema, and how many had a value left out. A value its
    column cannot hold (an integer past 64 bits, text in a number column: whatever got past the
    payload's checks) is left out of its row with a warning, and the row is kept."""
    schema = arrow_schema(table)
    try:
        return pa.Table.from_pylist(rows, schema=schema), 0
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        pass
    fixed, repaired = [], 0
    for row in rows:
        bad = [name for name in schema.names if name in row and not _holds(schema.field(name).type, row[name])]
        if bad:
            repaired += 1
            logger.warning("staging %s: %s left out of a row of %s (its column cannot hold it)",
                           table, ", ".join(bad), row.get("model_id") or row.get("target") or "a model")
            row = {k: v for k, v in row.items() if k not in bad}
        fixed.append(row)
    return pa.Table.from_pylist(fixed, schema=schema), repaired


def _holds(kind: pa.DataType, value) -> bool:
    try:
        pa.array([value], type=kind)
        return True
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return False


def ready_batches(root: str | os.PathLike) -> list[Path]:
    """The batches under root, oldest first, each checked against its manifest; whatever else is
    there (hidden names aside: batches being written) is moved to the quarantine folder."""
    root = Path(root)
    if not root.is_dir():
        return []
    batches = []
    for path in sorted(p for p in root.iterdir() if not p.name.startswith(".")):
        problem = batch_problem(path)
        if problem is None:
            batches.append(path)
        else:
            moved = quarantine(path, root)
            logger.warning("staging: %s is not a batch this crawler wrote (%s); moved to %s, not loaded",
                           path.name, problem, moved)
    return batches


def batch_problem(path: Path) -> str | None:
    """Why path is not a loadable batch, or None when its manifest matches its files."""
    if path.is_symlink() or not path.is_dir():
        return "not a folder"
    try:
        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
        files = dict(manifest["files"])
        batch = manifest["batch"]
    except (OSError, ValueError, KeyError, TypeError):
        return "no readable manifest"
    if batch != path.name:
        return f"manifest names batch {batch!r}"
    present = {p.name for p in path.iterdir()} - {MANIFEST}
    if present != set(files):
        return "files differ from the manifest: " + ", ".join(sorted(present ^ set(files)))
    for name, entry in files.items():
        if name.removesuffix(".parquet") not in STAGED_TABLES or not name.endswith(".parquet"):
            return f"unknown file {name}"
        if (path / name).is_symlink() or not isinstance(entry, dict) or file_sha256(path / name) != entry.get("sha256"):
            return f"{name} does not match its sha256"
    return None


def quarantine(path: Path, root: Path) -> Path:
    """Move path out of staging into the quarantine folder, under a name no earlier move took."""
    target_dir = quarantine_dir(root)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    while target.exists():
        target = target_dir / f"{path.name}.{uuid.uuid4().hex[:8]}"
    os.replace(path, target)
    return target


def discard_partial(root: str | os.PathLike) -> int:
    """Remove half-written batch folders left by a killed crawl; they hold no committed rows."""
    root = Path(root)
    removed = 0
    if root.is_dir():
        for path in root.glob(".*.tmp"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def file_sha256(path: Path) -> str:
    """A file's sha256, read a megabyte at a time (snapshot manifests, staged batches' manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
