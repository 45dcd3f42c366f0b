"""Read-only SQL over the warehouse, for `openness query` and anything else that only reads.

A read-only connection alone stops writes to the warehouse, not the rest of what SQL can reach:
`COPY ... TO` and `EXPORT DATABASE` write files, `read_csv`/`read_text`/`glob` read them, `ATTACH`
opens another database read-write, `INSTALL`/`LOAD` bring in code. A query's connection therefore
runs with external access off, the local file system and DuckDB's spill folder closed (the open
warehouse file aside) and its configuration locked: it reads the warehouse and nothing else, for at
most so long and so much memory.

DuckDB's memory limit caps its buffer pool, not every allocation: `repeat('x', 2000000000)` takes
gigabytes outside it. `openness query`, a process of its own, therefore also caps its whole
address space while the statements run (cap_process), so any allocation past the limit fails as
DuckDB's out-of-memory error, which it reports, instead of growing until the machine swaps.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from openness.warehouse.db import connect
from openness.warehouse.errors import QueryError

# DuckDB settings a query connection opens with (they cannot be set once it runs) ...
SANDBOX = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
# ... and the ones set once it is open, in this order: its spill folder (<warehouse>.tmp/, which
# DuckDB would otherwise let a query write and read files in) off first, then every file beyond
# the warehouse's already open one (read_blob of the warehouse file itself included), and the
# configuration locked last, so that nothing can be undone.
LOCK_DOWN = ("SET temp_directory = ''", "SET enable_external_access = false",
             "SET disabled_filesystems = 'LocalFileSystem'", "SET lock_configuration = true")
REFUSED = ("openness query reads the warehouse and nothing else: files, other databases, extensions "
           "and settings are off")
# A query's limits (`openness query --max-seconds/--max-memory-mb`): a runaway query (a recursive
# CTE without an end, range(1e12)) is stopped with a message instead of running until killed.
MAX_SECONDS = 300.0
MAX_MEMORY_MB = 4096
# Address space a capped process may take beyond what it held before the query and the query's own
# limit: DuckDB's threads each reserve a stack and a malloc arena (untouched mostly, but counted).
CAP_MARGIN_MB = 256
CAP_MARGIN_PER_THREAD_MB = 80


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    statement: str = ""


def run_statements(warehouse_path, sql: str, params: list | None = None, max_seconds: float = MAX_SECONDS,
                   max_memory_mb: int = MAX_MEMORY_MB, cap_process: bool = False) -> list[QueryResult]:
    """Run each statement of sql in order on a sandboxed read-only connection; one result each.
    A statement that writes, or reaches outside the warehouse, fails instead; one that runs past
    `max_seconds` is stopped, and DuckDB's memory is capped at `max_memory_mb`. cap_process: cap
    the whole process's address space as well while they run (for a process of its own: the cap
    holds for every thread of it)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc).strip()) from exc
    if not statements:
        raise QueryError("no SQL statement given")
    if params and len(statements) > 1:
        raise QueryError("parameters need a single statement")
    results = []
    with connect(warehouse_path, read_only=True, sandbox=SANDBOX, memory_limit_mb=max_memory_mb) as con:
        for setting in LOCK_DOWN:
            con.execute(setting)
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        margin = CAP_MARGIN_MB + CAP_MARGIN_PER_THREAD_MB * int(threads)
        with address_space_cap(max_memory_mb + margin if cap_process else None):
            for statement in statements:
                timer = threading.Timer(max_seconds, con.interrupt)
                timer.start()
                try:
                    results.append(_run(con, statement, params, max_seconds, max_memory_mb))
                finally:
                    timer.cancel()
    return results


@contextmanager
def address_space_cap(extra_mb: int | None):
    """While the block runs, this process may map at most extra_mb MB more than it has mapped now
    (RLIMIT_AS, on systems that keep it); the limit it had before is restored after. None: no cap."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm", encoding="ascii") as handle:
            mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        mapped = None
    if extra_mb is None or mapped is None:
        yield
        return
    cap = mapped + extra_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:  # already as tight
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_query(warehouse_path, sql: str, params: list | None = None, **limits) -> QueryResult:
    """Run SQL (one statement, or the last of several) and return its result (`limits`: as
    run_statements takes them)."""
    return run_statements(warehouse_path, sql, params, **limits)[-1]


def _run(con, statement, params, max_seconds: float, max_memory_mb: int) -> QueryResult:
    try:
        cursor = con.execute(statement, params or [])
        text = statement.query.strip()
        if cursor.description is None:
            return QueryResult([], [], text)
        return QueryResult([d[0] for d in cursor.description], cursor.fetchall(), text)
    except duckdb.InterruptException as exc:
        raise QueryError(f"stopped: the query ran past {max_seconds:g} s (`openness query --max-seconds`)") from exc
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        raise QueryError(f"stopped: the query needs more than {max_memory_mb} MB (`openness query --max-memory-mb`; "
                         f"{_first_line(exc) or 'out of memory'})") from exc
    except duckdb.PermissionException as exc:
        raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
    except duckdb.Error as exc:
        message = str(exc).strip()
        if "configuration has been locked" in message:
            raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
        raise QueryError(message) from exc


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
