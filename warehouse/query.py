"""Read-only SQL over the warehouse, for `openness query` and anything else that only reads.

A read-only connection alone stops writes to the warehouse, not the rest of what SQL can reach:
`COPY ... TO` and `EXPORT DATABASE` write files, `read_csv`/`read_text`/`glob` read them, `ATTACH`
opens another database read-write, `INSTALL`/`LOAD` bring in code. A query's connection therefore
runs with external access off, the local file system and DuckDB's spill folder closed (the open
warehouse file aside) and its configuration locked: it reads the warehouse and nothing else, for at
most so long and so much memory.
"""
from __future__ import annotations

import threading
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


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    statement: str = ""


def run_statements(warehouse_path, sql: str, params: list | None = None, max_seconds: float = MAX_SECONDS,
                   max_memory_mb: int = MAX_MEMORY_MB) -> list[QueryResult]:
    """Run each statement of sql in order on a sandboxed read-only connection; one result each.
    A statement that writes, or reaches outside the warehouse, fails instead; one that runs past
    `max_seconds` is stopped, and DuckDB's memory is capped at `max_memory_mb`."""
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
        for statement in statements:
            timer = threading.Timer(max_seconds, con.interrupt)
            timer.start()
            try:
                results.append(_run(con, statement, params, max_seconds, max_memory_mb))
            finally:
                timer.cancel()
    return results


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
    except duckdb.OutOfMemoryException as exc:
        raise QueryError(f"stopped: the query needs more than {max_memory_mb} MB (`openness query --max-memory-mb`; "
                         f"{_first_line(exc)})") from exc
    except duckdb.PermissionException as exc:
        raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
    except duckdb.Error as exc:
        message = str(exc).strip()
        if "configuration has been locked" in message:
            raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
        raise QueryError(message) from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
