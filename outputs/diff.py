"""`openness diff`: what changed between two crawl runs. Every run is a snapshot: `model_stats`
holds each model the run listed (its commit and gating), `models` each commit's metadata, and
`classifications` each classified commit's cells, so two runs compare without anything re-fetched."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from openness.warehouse.db import connect
from openness.outputs.errors import NoSuchRun


@dataclass
class Change:
    model_id: str
    kind: str              # new, removed, renamed, updated, licence, gating, classification
    before: str | None = None
    after: str | None = None
    detail: str | None = None


@dataclass
class DiffResult:
    run_a: str
    run_b: str
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    note: str | None = None  # e.g. the two runs did not select the same models

    @property
    def models(self) -> list[str]:
        return sorted({c.model_id for c in self.changes})


def diff_runs(warehouse_path, run_a: str | None = None, run_b: str | None = None) -> DiffResult:
    """Changes from run A to run B (default: the two latest crawls that listed models)."""
    with connect(warehouse_path, read_only=True) as con:
        run_a, run_b = _runs(con, run_a, run_b)
        result = DiffResult(run_a, run_b)
        selections = dict(con.execute("SELECT run_id, selection FROM crawl_runs WHERE run_id IN (?, ?)",
                                      [run_a, run_b]).fetchall())
        if selections.get(run_a) != selections.get(run_b):
            # an audit of one model after a crawl of thousands did not remove the others: what one
            # selection listed and the other did not ask for says nothing of the Hub
            result.note = ("the two runs selected different models: only the models both listed are compared "
                           "(none is called new or removed)")
        else:
            result.changes += _membership(con, run_a, run_b)
        result.changes += _renames(con, run_b)
        result.changes += _metadata(con, run_a, run_b)
        result.changes += _classifications(con, run_a, run_b)
    renamed = {c.before for c in result.changes if c.kind == "renamed"} | {c.after for c in result.changes if c.kind == "renamed"}
    result.changes = [c for c in result.changes if not (c.kind in ("new", "removed") and c.model_id in renamed)]
    result.changes.sort(key=lambda c: (c.model_id, c.kind, c.detail or ""))
    for change in result.changes:
        result.counts[change.kind] = result.counts.get(change.kind, 0) + 1
    return result


def _runs(con, run_a: str | None, run_b: str | None) -> tuple[str, str]:
    """The runs asked for; a run not given is the latest one before B (B: the latest crawl) that
    selected the same models, else simply the one before: a demo's listing run and its by-id run
    compared would call every model the other did not ask for 'removed'."""
    crawls = con.execute("SELECT run_id, selection FROM crawl_runs WHERE run_id IN (SELECT DISTINCT run_id FROM "
                         "model_stats) ORDER BY started_at, run_id").fetchall()
    order = [r for r, _ in crawls]
    selection = dict(crawls)
    for run in (run_a, run_b):
        if run is not None and run not in selection:
            raise NoSuchRun(f"no crawl run {run!r} in this warehouse (see: SELECT run_id FROM crawl_runs)")
    if run_b is None:
        later = order[order.index(run_a) + 1:] if run_a is not None else order
        same = [r for r in later if selection[r] == selection[run_a]] if run_a is not None else []
        run_b = (same or later or [None])[-1]
    if run_a is None and run_b is not None:
        earlier = order[:order.index(run_b)]
        same = [r for r in earlier if selection[r] == selection[run_b]]
        run_a = (same or earlier or [None])[-1]
    if run_a is None or run_b is None:
        raise NoSuchRun("two crawl runs are needed to compare; this warehouse has " + str(len(order)))
    return run_a, run_b


def _membership(con, run_a: str, run_b: str) -> list[Change]:
    """Models one run's selection listed and the other's did not (models reached only by links are
    not the selection's); a removed one says what run B found when it asked for it by id."""
    rows = con.execute("""
        SELECT coalesce(b.model_id, a.model_id), a.model_id IS NULL, v.outcome
        FROM (SELECT model_id FROM model_stats WHERE run_id = $a AND coalesce(depth, 0) = 0) a
        FULL JOIN (SELECT model_id FROM model_stats WHERE run_id = $b AND coalesce(depth, 0) = 0) b USING (model_id)
        LEFT JOIN vanished_models v ON v.run_id = $b AND v.model_id = a.model_id
        WHERE a.model_id IS NULL OR b.model_id IS NULL""", {"a": run_a, "b": run_b}).fetchall()
    return [Change(model_id, "new" if is_new else "removed", detail=None if is_new else outcome)
            for model_id, is_new, outcome in rows]


def _renames(con, run_b: str) -> list[Change]:
    """Renames run B saw: a model asked for by id that answered under another, or one that left the
    listing and redirects to its new id."""
    changes = {}
    for model_id, message in con.execute("SELECT model_id, message FROM fetch_failures WHERE run_id = ? "
                                         "AND reason = 'renamed'", [run_b]).fetchall():
        match = re.match(r"(.+) is now (.+)$", message or "")
        if match:
            changes[match.group(1)] = Change(match.group(1), "renamed", match.group(1), match.group(2))
    for model_id, now_id in con.execute("SELECT model_id, now_id FROM vanished_models WHERE run_id = ? "
                                        "AND outcome = 'renamed'", [run_b]).fetchall():
        changes[model_id] = Change(model_id, "renamed", model_id, now_id)
    return list(changes.values())


def _metadata(con, run_a: str, run_b: str) -> list[Change]:
    rows = con.execute("""
        SELECT a.model_id, a.sha, b.sha, ma.license, mb.license, a.gated, b.gated
        FROM model_stats a JOIN model_stats b ON a.model_id = b.model_id AND a.run_id = ? AND b.run_id = ?
        LEFT JOIN models ma ON ma.model_id = a.model_id AND ma.sha = a.sha
        LEFT JOIN models mb ON mb.model_id = b.model_id AND mb.sha = b.sha
        WHERE a.sha IS DISTINCT FROM b.sha OR a.gated IS DISTINCT FROM b.gated""", [run_a, run_b]).fetchall()
    changes = []
    for model_id, sha_a, sha_b, licence_a, licence_b, gated_a, gated_b in rows:
        if sha_a != sha_b:
            changes.append(Change(model_id, "updated", (sha_a or "")[:12], (sha_b or "")[:12]))
        if licence_a != licence_b and licence_a is not None and licence_b is not None:
            changes.append(Change(model_id, "licence", licence_a, licence_b))
        if gated_a != gated_b and gated_a is not None and gated_b is not None:
            changes.append(Change(model_id, "gating", gated_a, gated_b))
    return changes


def _classifications(con, run_a: str, run_b: str) -> list[Change]:
    rows = con.execute("""
        SELECT a.model_id, ca.component, ca.label, cb.label
        FROM model_stats a JOIN model_stats b ON a.model_id = b.model_id AND a.run_id = ? AND b.run_id = ?
        JOIN classifications ca ON ca.model_id = a.model_id AND ca.sha = a.sha
        JOIN classifications cb ON cb.model_id = b.model_id AND cb.sha = b.sha AND cb.component = ca.component
        WHERE a.sha <> b.sha AND ca.label <> cb.label""", [run_a, run_b]).fetchall()
    return [Change(model_id, "classification", before, after, component) for model_id, component, before, after in rows]


def as_json(result: DiffResult) -> str:
    return json.dumps({"run_a": result.run_a, "run_b": result.run_b, "note": result.note, "counts": result.counts,
                       "changes": [vars(c) for c in result.changes]}, indent=2)
