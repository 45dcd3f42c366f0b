"""`openness evaluate`: how far the warehouse's classifications agree with a gold set of cells
that people classified by hand (a CSV of model_id, component, level).

Reading the gold file and the warehouse is done here; the scoring itself (`score`) is a pure
function of the gold cells and the classified cells, so it is tested without a warehouse.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from openness.warehouse.db import connect
from openness.classification.errors import GoldError
from openness.warehouse.errors import WarehouseMissing
from openness.classification.taxonomy.rules import COMPONENT_KEYS

REQUIRED_COLUMNS = ("model_id", "component", "level")
# Columns of the confusion table, after the levels: cells the classification left without a level.
NOT_LEVELS = ("N/A", "Unknown", "missing")
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class GoldCell:
    model_id: str
    component: str
    level: int
    line: int                       # in the gold file, for messages
    note: str = ""                  # the row's other columns, e.g. licence and source


@dataclass(frozen=True)
class Classified:
    """One classified cell as the warehouse holds it."""
    level: int | None
    label: str
    reason: str
    licences: list = field(default_factory=list)
    evidence: list = field(default_factory=list)


@dataclass
class Agreement:
    cells: int = 0
    exact: int = 0
    within_one: int = 0
    false_open: int = 0             # classified at 4-5 where the gold set says 1-2: the worst error
    missing: int = 0                # gold cells whose model the warehouse has not classified
    by_component: dict = field(default_factory=dict)
    confusion: dict = field(default_factory=dict)   # gold level -> classified label or level -> count
    disagreements: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"cells": self.cells, "exact": self.exact, "within_one": self.within_one,
                "false_open": self.false_open, "missing": self.missing, "by_component": self.by_component,
                "confusion": self.confusion, "disagreements": self.disagreements}


def read_gold(path) -> list[GoldCell]:
    """The gold cells of a CSV file with at least model_id, component and level (1-5)."""
    source = Path(path)
    try:
        text = source.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"cannot read {source}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise GoldError(f"{source}: no column {', '.join(missing)} (the header must name model_id, component, level)")
    cells, seen = [], set()
    for number, row in enumerate(reader, 2):
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
        if not any(row.values()):
            continue
        model_id, component, level = row["model_id"], row["component"], row["level"]
        if component not in COMPONENT_KEYS:
            raise GoldError(f"{source}:{number}: unknown component {component!r} (one of the taxonomy's 12 keys)")
        if level not in ("1", "2", "3", "4", "5"):
            raise GoldError(f"{source}:{number}: level must be 1-5, not {level!r}")
        if not model_id:
            raise GoldError(f"{source}:{number}: empty model_id")
        if (model_id, component) in seen:
            raise GoldError(f"{source}:{number}: {model_id} {component} appears twice")
        seen.add((model_id, component))
        note = "; ".join(f"{k}: {v}" for k, v in row.items() if k not in REQUIRED_COLUMNS and v)
        cells.append(GoldCell(model_id, component, int(level), number, note))
    if not cells:
        raise GoldError(f"{source}: no gold cells")
    return cells


def score(gold: list[GoldCell], classified: dict[tuple[str, str], Classified]) -> Agreement:
    """Agreement of classified cells (by (model_id, component)) with the gold cells."""
    result = Agreement()
    per_component: dict[str, Counter] = {}
    confusion: dict[str, Counter] = {}
    for cell in gold:
        got = classified.get((cell.model_id, cell.component))
        column = "missing" if got is None else str(got.level) if got.level is not None else got.label
        confusion.setdefault(str(cell.level), Counter())[column] += 1
        counts = per_component.setdefault(cell.component, Counter())
        counts["cells"] += 1
        result.cells += 1
        exact = got is not None and got.level == cell.level
        near = got is not None and got.level is not None and abs(got.level - cell.level) <= 1
        false_open = got is not None and got.level is not None and got.level >= 4 and cell.level <= 2
        result.exact += exact
        result.within_one += near
        result.false_open += false_open
        result.missing += got is None
        counts["exact"] += exact
        counts["within_one"] += near
        counts["false_open"] += false_open
        if not exact:
            result.disagreements.append(_disagreement(cell, got, false_open))
    result.by_component = {key: dict(per_component[key]) for key in COMPONENT_KEYS if key in per_component}
    columns = [str(level) for level in range(1, 6)] + list(NOT_LEVELS)
    result.confusion = {row: {c: confusion[row][c] for c in columns if confusion[row][c]}
                        for row in sorted(confusion)}
    result.disagreements.sort(key=lambda d: (not d["false_open"], d["model_id"], COMPONENT_KEYS.index(d["component"])))
    return result


def _disagreement(cell: GoldCell, got: Classified | None, false_open: bool) -> dict:
    out = {"model_id": cell.model_id, "component": cell.component, "gold": cell.level, "gold_note": cell.note,
           "false_open": false_open}
    if got is None:
        return {**out, "level": None, "label": "missing", "reason": "the warehouse has not classified this model",
                "licences": [], "evidence": []}
    return {**out, "level": got.level, "label": got.label, "reason": got.reason, "licences": got.licences,
            "evidence": got.evidence[:MAX_EVIDENCE]}


def evaluate_warehouse(warehouse_path, gold_path) -> Agreement:
    """Score the latest classification of every model the gold file names."""
    gold = read_gold(gold_path)
    if not Path(warehouse_path).exists():
        raise WarehouseMissing(f"no warehouse at {warehouse_path}: crawl and classify the gold set's models first")
    ids = sorted({cell.model_id for cell in gold})
    with connect(warehouse_path, read_only=True) as con:
        names = _stored_names(con, ids)
        rows = con.execute("""
            SELECT c.model_id, c.component, c.level, c.label, c.reason, c.licences, c.evidence
            FROM classifications c JOIN latest_models m USING (model_id, sha)
            WHERE c.model_id IN (SELECT unnest(?::VARCHAR[]))""", [sorted(set(names.values()))]).fetchall()
    by_stored = {(m, c): Classified(level, label, reason, json.loads(licences or "[]"), json.loads(evidence or "[]"))
                 for m, c, level, label, reason, licences, evidence in rows}
    classified = {(gold_id, component): cell for gold_id, stored in names.items()
                  for (model, component), cell in by_stored.items() if model == stored}
    return score(gold, classified)


def _stored_names(con, ids: list[str]) -> dict[str, str]:
    """Gold model id -> the id the warehouse stores it under: the same id, the same id in another
    case (the Hub's ids are case-insensitive), or the new id of a renamed model."""
    stored = {m.lower(): m for (m,) in con.execute(
        "SELECT DISTINCT model_id FROM latest_models WHERE lower(model_id) IN (SELECT lower(unnest(?::VARCHAR[])))",
        [ids]).fetchall()}
    renamed = {}
    for old, new in con.execute("""
            SELECT target, resolved_id FROM link_targets WHERE kind = 'base_model' AND resolved_id IS NOT NULL
            UNION ALL SELECT model_id, now_id FROM vanished_models WHERE now_id IS NOT NULL
            -- asked for by id (crawl --model, audit), it answered under its new id: "old is now new"
            UNION ALL SELECT model_id, regexp_extract(message, ' is now (.+)$', 1) FROM fetch_failures
            WHERE reason = 'renamed' AND model_id IS NOT NULL AND message LIKE '% is now %'""").fetchall():
        renamed.setdefault(old.lower(), new)
    names = {}
    for model_id in ids:
        found = stored.get(model_id.lower()) or renamed.get(model_id.lower())
        if found:
            names[model_id] = found
    return names
