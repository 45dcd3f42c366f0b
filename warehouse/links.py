"""What a crawl must follow next: the link targets no crawl has settled, or whose outcome is
stale, deferred or transient; and what the warehouse already holds of those targets."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openness.warehouse.db import connect, utcnow


@dataclass(frozen=True)
class Target:
    kind: str
    target: str
    depth: int
    url: str | None = None


# Followed targets whose stored rows are all incomplete (a tree or a file that failed half way): a
# resolved target whose repository or dataset the audit cannot read whole is followed again.
INCOMPLETE_TARGETS = """
SELECT t.kind, t.target FROM link_targets t
WHERE t.status = 'resolved' AND (
      (t.kind = 'code' AND NOT EXISTS (SELECT 1 FROM code_repos c WHERE c.repo = coalesce(t.resolved_id, t.target)
                                                                    AND c.complete)
                       AND EXISTS (SELECT 1 FROM code_repos c WHERE c.repo = coalesce(t.resolved_id, t.target)))
   OR (t.kind = 'dataset' AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.dataset_id = coalesce(t.resolved_id, t.target)
                                                                      AND d.complete)
                          AND EXISTS (SELECT 1 FROM datasets d WHERE d.dataset_id = coalesce(t.resolved_id, t.target))))
"""

_FRONTIER = """
WITH incomplete_targets AS (""" + INCOMPLETE_TARGETS + """),
linked AS (
    SELECT l.kind, l.target, l.depth, l.url, l.relevance IN ('guess', 'mention') AS guess
    FROM model_links l JOIN latest_models m USING (model_id, sha)
    -- a mention cannot open a component: not followed, but for papers, which are all recorded
    WHERE l.relevance IS DISTINCT FROM 'mention' OR l.kind = 'paper'
    UNION ALL
    SELECT p.kind, p.target, p.depth, p.url, false FROM paper_code_links p JOIN latest_models m USING (model_id, sha)
), wanted AS (
    SELECT kind, target, min(depth) AS depth, min(url) AS url, bool_and(coalesce(guess, false)) AS guess FROM linked
    WHERE depth <= $max_depth
    GROUP BY kind, target
)
SELECT w.kind, w.target, w.depth, w.url
FROM wanted w LEFT JOIN link_targets t USING (kind, target)
WHERE t.target IS NULL
   OR (t.run_id <> $run_id AND (
          (t.status = 'deferred' AND (t.retry_after IS NULL OR t.retry_after <= $now))
       OR (t.status <> 'deferred' AND t.transient)
       OR t.checked_at < $stale_before
       OR EXISTS (SELECT 1 FROM incomplete_targets i WHERE i.kind = t.kind AND i.target = t.target)))
ORDER BY w.depth, w.guess, w.kind, w.target   -- guesses and cited papers take what budget own links leave
LIMIT $limit
"""


def frontier(warehouse_path, run_id: str, max_depth: int, stale_before: datetime, limit: int = 1_000_000) -> list[Target]:
    """Targets to follow now, nearest first, at most `limit`. A target settled in this run is never
    returned again, so a crawl follows each target once however many models link to it."""
    if not Path(warehouse_path).exists():
        return []
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute(_FRONTIER, {"max_depth": max_depth, "run_id": run_id, "now": utcnow(),
                                       "stale_before": stale_before, "limit": limit}).fetchall()
    return [Target(*row) for row in rows]


def incomplete_targets(warehouse_path, run_id: str) -> int:
    """How many targets this run followed are resolved yet stored incomplete only: the crawl is not
    complete while the audit cannot read them whole, and the next crawl follows them again."""
    with connect(warehouse_path, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM ({INCOMPLETE_TARGETS}) i JOIN link_targets t USING (kind, target) "
                           "WHERE t.run_id = ?", [run_id]).fetchall()[0][0]


def failed_for_now(warehouse_path, run_id: str) -> int:
    """How many targets this run followed failed for a reason that passes (a 5xx, a reset, a
    timeout, a host not reached): the audit could not read them, their models' cells say so, and the
    next crawl follows them again, so the crawl is not complete."""
    with connect(warehouse_path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM link_targets WHERE run_id = ? AND status = 'failed' AND transient",
                           [run_id]).fetchall()[0][0]


def observed_models(warehouse_path, model_ids: list[str], since: datetime) -> set[str]:
    """Models the warehouse saw listed or fetched since then: a base model among them needs no
    request of its own."""
    if not model_ids:
        return set()
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT DISTINCT s.model_id FROM model_stats s JOIN models m USING (model_id, sha) "
                           "WHERE s.model_id IN (SELECT unnest(?::VARCHAR[])) AND s.observed_at >= ? AND m.complete",
                           [model_ids, since]).fetchall()
    return {r[0] for r in rows}


def stored_dataset_commits(warehouse_path, dataset_ids: list[str]) -> set[tuple[str, str]]:
    """(dataset id, sha) pairs stored complete: a dataset at such a commit needs no file fetched."""
    if not dataset_ids:
        return set()
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT dataset_id, sha FROM datasets WHERE complete AND lower(dataset_id) IN "
                           "(SELECT lower(unnest(?::VARCHAR[])))", [dataset_ids]).fetchall()
    return {(a, b) for a, b in rows}


def stored_code_repos(warehouse_path, repos: list[str]) -> dict[str, tuple[datetime | None, str | None]]:
    """repo -> (pushed_at, ETag) of its newest complete row: a repo pushed no later needs no tree
    fetched, and one whose answer has the same ETag needs nothing at all (GitHub answers 304)."""
    if not repos:
        return {}
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT repo, pushed_at, etag FROM code_repos WHERE complete "
                           "AND repo IN (SELECT unnest(?::VARCHAR[])) "
                           "QUALIFY row_number() OVER (PARTITION BY repo ORDER BY pushed_at DESC NULLS LAST, tree_sha) = 1",
                           [repos]).fetchall()
    return {repo: (pushed_at, etag) for repo, pushed_at, etag in rows}


def linked_paths(warehouse_path, targets: list[str]) -> dict[str, list[str]]:
    """target -> the files or folders inside it that models' own links point at."""
    if not targets or not Path(warehouse_path).exists():
        return {}
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("""
            SELECT target, list(DISTINCT path ORDER BY path) FROM (
                SELECT target, unnest(paths) AS path FROM model_links
                WHERE kind = 'code' AND relevance IS DISTINCT FROM 'mention' AND paths IS NOT NULL
                  AND target IN (SELECT unnest(?::VARCHAR[])))
            GROUP BY target""", [targets]).fetchall()
    return {target: list(paths) for target, paths in rows}
