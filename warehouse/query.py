"""Read-only SQL over the warehouse, for `openness query` and anything else that only reads."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.db import connect
from warehouse.errors import QueryError


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def run_query(warehouse_path, sql: str, params: list | None = None) -> QueryResult:
    """Run SQL on a read-only connection: a statement that writes fails instead of writing."""
    with connect(warehouse_path, read_only=True) as con:
        try:
            cursor = con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip()) from exc
        if cursor.description is None:
            return QueryResult([], [])
        return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
