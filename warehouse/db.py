"""Opening the warehouse: read-write for loads (briefly, one batch at a time) or read-only."""
from __future__ import annotations

import errno
import re
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb

from openness.warehouse.errors import DiskFull, WarehouseBusy, WarehouseError, WarehouseMissing, WarehouseUnreadable

SCHEMA_VERSION = 19  # 2: findings; 3: links, datasets, code_repos, papers; 4: classifications; 5: summaries'
#                      verdicts; 6: gating per run in model_stats; 7: depth in model_stats, vanished_models;
#                      8: links' relevance, papers' Hub pages, cells' search; 9: latest_models' ties by sha;
#                      10: code_repos' paths; 11: what each model's cells were made from; 12: classifications
#                      without a primary key; 13: models.sizes_pending; 14: classify_runs; 15: the latest_*
#                      views of the current state; 16: licences; 17: code_repos.etag;
#                      18: documents read from a card dump; 19: licence files left unread, and why
TABLES = ("crawl_runs", "models", "repo_files", "documents", "fetch_failures", "model_stats", "findings",
          "model_links", "link_targets", "datasets", "code_repos", "linked_documents", "papers",
          "classifications", "model_summaries", "vanished_models", "classify_runs", "licences")
# How the warehouse reads a Parquet file it wrote: a path, never a partitioned dataset (with hive
# partitioning guessed, a warehouse under a folder named k=v gained a column k and failed to load).
READ_PARQUET = "read_parquet(?, hive_partitioning = false)"
# A crawl holds the write lock only while it loads a batch; readers and the next batch wait
# this long for it before giving up.
LOCK_WAIT_SECONDS = 30.0


def schema_sql() -> str:
    return (resources.files("openness.warehouse") / "schema.sql").read_text("utf-8")


def views() -> list[str]:
    """The views schema.sql creates, in its order."""
    found = re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", schema_sql(), re.IGNORECASE)
    return list(dict.fromkeys(found))


def latest_views() -> list[str]:
    """The views of the current state (latest_models first): one row per model at its newest
    commit, or per followed dataset and code repo, where the tables keep every commit."""
    return [name for name in views() if name.startswith("latest_")]


def _open(path: str, read_only: bool, wait: float, config: dict) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise unreadable(path, exc) from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"warehouse {path} is locked by another process") from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException) as exc:
            raise unreadable(path, exc) from exc


DAMAGE_SIGNS = ("corrupt database file", "does not match stored checksum", "could not read enough bytes",
                "not a valid duckdb database file")


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the file itself is damaged (a block's checksum, a block past
    the file's end), as against a query's own error or a lock."""
    return isinstance(exc, duckdb.Error) and any(sign in str(exc).lower() for sign in DAMAGE_SIGNS)


def unreadable(path, exc: Exception) -> WarehouseError:
    """The one-line error for a warehouse file DuckDB cannot read, with what to do about it. A full
    disk is said as such: the file is intact, and what was committed is kept."""
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no space left on device" in str(exc).lower() or getattr(exc, "errno", None) == errno.ENOSPC:
        return DiskFull(f"the disk holding the warehouse {path} is full ({cause}): nothing already stored is lost; "
                        "free some space and run the command again")
    return WarehouseUnreadable(f"cannot read the warehouse {path} ({cause}): it is damaged, cut short or not a "
                               "DuckDB file; move it aside and restore it from a backup or a Parquet snapshot, "
                               "or give --warehouse another file (a crawl starts a new one)")


# DuckDB's file header and its two database headers, before the first block
FILE_HEADER_BYTES = 3 * 4096


def check_whole(path: str | Path) -> None:
    """Raise WarehouseUnreadable when the file is shorter than the blocks its header says are in
    use (a copy cut short, a restore that stopped half way): DuckDB opens such a file and fails only
    where a query first reads a missing block, in the middle of a crawl. Checked once at a crawl's
    start, from the header alone. Skipped while a write-ahead log is beside the file (its blocks
    may not be written yet)."""
    path = Path(path)
    if not path.exists() or Path(f"{path}.wal").exists():
        return
    with connect(path, read_only=True) as con:
        block_size, used_blocks = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()"
        ).fetchone()
    needed = FILE_HEADER_BYTES + int(used_blocks) * int(block_size)
    size = path.stat().st_size
    if size < needed:
        raise unreadable(path, ValueError(f"the file holds {size:,} bytes of the {needed:,} its blocks need"))


@contextmanager
def connect(path: str | Path, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS, merge: bool = False,
            memory_limit_mb: int | None = None, sandbox: dict | None = None):
    """A connection that is closed on exit; read-write connections create the schema.

    merge: let checkpoints merge row groups (DuckDB's vacuum). Off by default: a crawl commits one
    small row group per batch, and a checkpoint that merges them rewrites the merged groups' columns
    in memory, card texts included, in one go. In a crawl that made spikes of RSS growing with the
    warehouse (+0.6 GB over a 0.2 GB process at 40,000 models, +1.3 GB at 200,000); without merging
    a load adds ~80 MB whatever the warehouse's size. `openness retain` merges (merge=True).

    memory_limit_mb: cap DuckDB's buffer pool (its default is 80% of the machine's memory). Set as
    the database opens, so what the open itself reads (a WAL replay) is capped too.

    sandbox: more DuckDB settings to open with (warehouse.query's: no access outside the warehouse)."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: run `openness crawl` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": f"{memory_limit_mb}MiB"} if memory_limit_mb else {}
    config.update(sandbox or {})
    con = _open(str(path), read_only, wait, config)
    try:
        if not read_only:
            if not merge:
                con.execute("SET max_vacuum_tasks = 0")
            ensure_schema(con)
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema in a new warehouse and bring an older one up to date. schema.sql only adds
    (CREATE ... IF NOT EXISTS), so running it again is the migration; a warehouse at this version
    is left untouched."""
    # fetchall, not fetchone: DuckDB keeps a half-read result open, and register() refuses to run beside it
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_info'").fetchall()[0][0]
    version = (con.execute("SELECT max(version) FROM schema_info").fetchall()[0][0] or 0) if exists else 0
    if version >= SCHEMA_VERSION:
        return
    with transaction(con):
        keyed = _keyed_classifications(con)
        if keyed:
            con.execute("ALTER TABLE classifications RENAME TO classifications_before_12")
        con.execute(schema_sql())
        if keyed:
            con.execute("INSERT INTO classifications BY NAME SELECT * FROM classifications_before_12")
            con.execute("DROP TABLE classifications_before_12")
        con.execute("INSERT INTO schema_info VALUES (?, ?)", [SCHEMA_VERSION, utcnow()])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """The block's statements as one transaction: committed when it ends, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")  # inside: a commit that fails is rolled back too
    except Exception:
        con.execute("ROLLBACK")
        raise


def _keyed_classifications(con: duckdb.DuckDBPyConnection) -> bool:
    """A classifications table from before schema 12, with a primary key. The key cost two thirds
    of every insert's time (its index is kept row by row, and held in memory: 12 rows a model);
    classification writes a model's cells with its summary, in one transaction, after deleting
    the old ones, and the summaries keep their key: one set of cells per model commit."""
    return con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'classifications' "
                       "AND constraint_type = 'PRIMARY KEY'").fetchall()[0][0] > 0


@contextmanager
def batch_keys(con: duckdb.DuckDBPyConnection, name: str, keys: list[tuple[str, str]],
               columns: tuple[str, str] = ("model_id", "sha")):
    """A batch's keys (pairs such as model id and sha) as a table named `name` that the statements
    inside the block join on; gone when the block ends, whatever happens."""
    import pyarrow as pa  # here, not at the top: every command opens the warehouse, few register batches
    con.register(name, pa.table({columns[0]: [k[0] for k in keys], columns[1]: [k[1] for k in keys]}))
    try:
        yield
    finally:
        con.unregister(name)


def write_registered(con: duckdb.DuckDBPyConnection, tables: dict, statements: list[str]) -> None:
    """Register Arrow tables under their names, run the statements over them in one transaction
    (all or nothing), and unregister them whatever happens."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        with transaction(con):
            for statement in statements:
                con.execute(statement)
    finally:
        for name in tables:
            con.unregister(name)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
