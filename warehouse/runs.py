"""Crawl runs: their rows in crawl_runs, the crawl lock, and what a crawl needs to know of the past."""
from __future__ import annotations

import fcntl
import json
import os
import secrets
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from openness.warehouse.db import connect, utcnow
from openness.warehouse.errors import CrawlLocked


def new_run_id() -> str:
    """Sortable by start time: 20261123T225714Z-3fa2c1."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


_HELD: dict[str, int] = {}  # warehouse path -> the fd of the crawl lock this process holds


@contextmanager
def crawl_lock(warehouse_path):
    """One crawl at a time per warehouse; a second one fails at once rather than interleaving.

    An flock on <warehouse>.lock: the kernel releases it when every process holding it has ended,
    so a lock left by a killed crawl is simply taken over. The crawl's child processes inherit it
    (held_lock_fd), so a crawl process orphaned by a killed parent still holds it until it stops."""
    lock_path = Path(f"{warehouse_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = " ".join(handle.read().split()[:1]) or "unknown"
            raise CrawlLocked(f"another crawl is writing {warehouse_path} (pid {holder}); wait for it to end, "
                              f"or stop it (the lock, {lock_path}, is released when its processes end)") from None
        handle.seek(0), handle.truncate(), handle.write(f"{os.getpid()}\n"), handle.flush()
        _HELD[str(warehouse_path)] = handle.fileno()
        yield
    finally:
        _HELD.pop(str(warehouse_path), None)
        handle.close()


def held_lock_fd(warehouse_path) -> int | None:
    """The fd of the crawl lock this process holds on the warehouse, for its crawl processes to inherit."""
    return _HELD.get(str(warehouse_path))


def start_run(warehouse_path, run_id: str, endpoint: str, selection: dict) -> int:
    """Record a run as running; runs left 'running' by a killed crawl become 'interrupted'.
    Returns how many such runs were found."""
    with connect(warehouse_path) as con:
        stale = con.execute("UPDATE crawl_runs SET status = 'interrupted' WHERE status = 'running' "
                            "RETURNING run_id").fetchall()
        con.execute("INSERT INTO crawl_runs (run_id, started_at, status, endpoint, selection) "
                    "VALUES (?, ?, 'running', ?, ?)",
                    [run_id, utcnow(), endpoint, json.dumps(selection, sort_keys=True)])
    return len(stale)


def finish_run(warehouse_path, run_id: str, status: str, counters: dict, message: str | None = None) -> None:
    columns = ("models_seen", "models_new", "models_changed", "models_unchanged", "files_fetched",
               "failures", "requests_api", "requests_resolvers", "seconds")
    with connect(warehouse_path) as con:
        con.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, message = ?, stats = ?, "
            + ", ".join(f"{c} = ?" for c in columns) + " WHERE run_id = ?",
            [utcnow(), status, message, json.dumps(counters, sort_keys=True, default=str)]
            + [counters.get(c) for c in columns] + [run_id])


class StoredCommit(NamedTuple):
    complete: bool      # every document was fetched
    sizes_pending: int  # weight files whose size a crawl left for later (0: none, or not known)
    licence_files_pending: int = 0  # licence files a crawl left for later (crawler/deferral.py)


def known_commits(warehouse_path, model_ids: list[str]) -> dict[str, dict[str, StoredCommit]]:
    """For each model id already stored: {sha: StoredCommit}. One short read per listing page keeps
    memory flat however large the warehouse grows."""
    if not model_ids or not Path(warehouse_path).exists():
        return {}
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT model_id, sha, complete, coalesce(sizes_pending, 0), "
                           "coalesce(licence_files_pending, 0) FROM models WHERE model_id IN "
                           "(SELECT unnest(?::VARCHAR[]))", [model_ids]).fetchall()
    known: dict[str, dict[str, StoredCommit]] = {}
    for model_id, sha, complete, sizes, licences in rows:
        known.setdefault(model_id, {})[sha] = StoredCommit(complete, sizes, licences)
    return known


def stored_fetch(warehouse_path, model_id: str, sha: str) -> tuple[list[dict], dict[str, dict]]:
    """What earlier fetches of an incomplete commit stored: its documents (path, url, text), and the
    files its tree gave sizes or LFS sha256 for (none when the tree was not read) or that were left
    unread, and why. A re-fetch asks only for the rest, and the findings are extracted from all of it."""
    with connect(warehouse_path, read_only=True) as con:
        documents = con.execute("SELECT path, url, text FROM documents WHERE model_id = ? AND sha = ? ORDER BY path",
                                [model_id, sha]).fetchall()
        files = con.execute("SELECT path, size, lfs_sha256, blob_id, unread FROM repo_files WHERE model_id = ? "
                            "AND sha = ? AND (size IS NOT NULL OR lfs_sha256 IS NOT NULL OR unread IS NOT NULL) "
                            "ORDER BY path", [model_id, sha]).fetchall()
    return ([{"path": p, "url": u, "text": t} for p, u, t in documents],
            {p: {"model_id": model_id, "sha": sha, "path": p, "size": size, "lfs_sha256": lfs, "blob_id": blob,
                 "unread": unread} for p, size, lfs, blob, unread in files})


def incomplete_after(warehouse_path, run_id: str) -> int:
    """How many of the models this run listed or reached are still incomplete once it is loaded:
    some file could not be fetched for a passing reason, and the next crawl fetches the rest."""
    with connect(warehouse_path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM latest_models m WHERE NOT m.complete AND m.model_id IN "
                           "(SELECT model_id FROM model_stats WHERE run_id = ?)", [run_id]).fetchall()[0][0]


def not_stored(warehouse_path, run_id: str, staged: int, lost: int) -> int:
    """How many of the model rows a crawl staged are not in the warehouse once it is loaded: a
    batch that could not be written (`lost`), or rows that went missing on the way. A crawl that
    stored fewer than it counted is never complete; the next crawl fetches those models again."""
    with connect(warehouse_path, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM models WHERE run_id = ?", [run_id]).fetchall()[0][0]
    return max(staged - stored, lost, 0)


def failures_by_reason(warehouse_path, run_id: str) -> dict[str, int]:
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT reason, count(*) FROM fetch_failures WHERE run_id = ? GROUP BY reason "
                           "ORDER BY 2 DESC, 1", [run_id]).fetchall()
    return dict(rows)


# A --full crawl selects the same models as a plain one.
_NOT_SELECTION = ("full",)


def selection_key(selection: dict | str | None) -> str:
    data = json.loads(selection) if isinstance(selection, str) else dict(selection or {})
    return json.dumps({k: v for k, v in data.items() if k not in _NOT_SELECTION}, sort_keys=True)


def previous_listing(con, run_id: str, selection: dict) -> str | None:
    """The latest earlier crawl of the same selection whose listing was read."""
    key = selection_key(selection)
    rows = con.execute("SELECT run_id, selection FROM crawl_runs WHERE run_id <> ? AND status IN ('complete', 'partial') "
                       "AND models_seen > 0 AND started_at <= (SELECT started_at FROM crawl_runs WHERE run_id = ?) "
                       "ORDER BY started_at DESC", [run_id, run_id]).fetchall()
    return next((run for run, selection_json in rows if selection_key(selection_json) == key), None)


def vanished_candidates(warehouse_path, run_id: str, selection: dict) -> list[tuple[str, str, str | None]]:
    """(model_id, last_seen_run, last_sha) of the models the previous crawl of this selection listed
    and this run's listing did not, plus those the previous crawl could not tell about. A model whose
    entry this run listed but could not read is listed. This run's listing must be loaded."""
    with connect(warehouse_path, read_only=True) as con:
        previous = previous_listing(con, run_id, selection)
        if previous is None:
            return []
        return con.execute("""
            WITH listed AS (SELECT model_id FROM model_stats WHERE run_id = $run AND coalesce(depth, 0) = 0
                            UNION  -- listed, though its entry could not be read: not vanished
                            SELECT model_id FROM fetch_failures WHERE run_id = $run AND model_id IS NOT NULL
                            AND reason IN ('invalid_id', 'bad_payload'))
            SELECT model_id, $previous, sha FROM model_stats
            WHERE run_id = $previous AND coalesce(depth, 0) = 0 AND model_id NOT IN (SELECT model_id FROM listed)
            UNION
            SELECT model_id, last_seen_run, last_sha FROM vanished_models
            WHERE run_id = $previous AND outcome = 'unknown' AND model_id NOT IN (SELECT model_id FROM listed)
            ORDER BY 1""", {"run": run_id, "previous": previous}).fetchall()
