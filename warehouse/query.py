"""Read-only SQL over the warehouse, for `openness query` and anything else that only reads.

A read-only connection alone stops writes to the warehouse, not the rest of what SQL can reach:
`COPY ... TO` and `EXPORT DATABASE` write files, `read_csv`/`read_text`/`glob` read them, `ATTACH`
opens another database read-write, `INSTALL`/`LOAD` bring in code. A query's connection therefore
runs with external access off and its configuration locked: it reads the warehouse and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from openness.warehouse.db import connect
from openness.warehouse.errors import QueryError

# DuckDB settings a query connection opens with; lock_configuration comes last so none can be undone
SANDBOX = {
    "enable_external_access": False,  # no file read or written, no ATTACH, no extension installed
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,  # SET cannot turn any of the above back on
}
REFUSED = ("openness query reads the warehouse and nothing else: files, other databases, extensions "
           "and settings are off")


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    statement: str = ""


def run_statements(warehouse_path, sql: str, params: list | None = None) -> list[QueryResult]:
    """Run each statement of sql in order on a sandboxed read-only connection; one result each.
    A statement that writes, or reaches outside the warehouse, fails instead."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc).strip()) from exc
    if not statements:
        raise QueryError("no SQL statement given")
    if params and len(statements) > 1:
        raise QueryError("parameters need a single statement")
    results = []
    with connect(warehouse_path, read_only=True, sandbox=SANDBOX) as con:
        for statement in statements:
            results.append(_run(con, statement, params))
    return results


def run_query(warehouse_path, sql: str, params: list | None = None) -> QueryResult:
    """Run SQL (one statement, or the last of several) and return its result."""
    return run_statements(warehouse_path, sql, params)[-1]


def _run(con, statement, params) -> QueryResult:
    try:
        cursor = con.execute(statement, params or [])
    except duckdb.PermissionException as exc:
        raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
    except duckdb.Error as exc:
        message = str(exc).strip()
        if "configuration has been locked" in message:
            raise QueryError(f"refused: {REFUSED} ({_first_line(exc)})") from exc
        raise QueryError(message) from exc
    text = statement.query.strip()
    if cursor.description is None:
        return QueryResult([], [], text)
    return QueryResult([d[0] for d in cursor.description], cursor.fetchall(), text)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
