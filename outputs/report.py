"""`openness report`: what the warehouse's classifications say, gathered for a static HTML report
(outputs/report_html.py renders it). Read-only; the matrix shows the most downloaded models, the
counts cover every classified model."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from openness.warehouse.db import connect
from openness.outputs.errors import NothingToReport
from openness.outputs.report_html import render
from openness.classification.rules import COMPONENT_KEYS

MAX_EVIDENCE = 5  # per cell in the report; `openness explain` shows them all


@dataclass
class ReportResult:
    out_dir: str
    index: str
    models_shown: int
    models_classified: int


def write_report(warehouse_path, out_dir, limit: int = 500) -> ReportResult:
    with connect(warehouse_path, read_only=True) as con:
        data = gather(con, limit)
    if not data["models"]:
        raise NothingToReport("no model is classified yet: run `openness classify` first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    index.write_text(render(data), "utf-8")
    return ReportResult(str(out), str(index), len(data["models"]), data["totals"]["models"])


def gather(con, limit: int) -> dict:
    shown = con.execute("""
        SELECT s.model_id, s.sha, s.family, m.author, coalesce(m.license, '(none)'), m.downloads, m.gated,
               s.fully_open, s.semi_open, s.closed, s.unknown, s.not_applicable, s.mof_class, s.osaid
        FROM model_summaries s JOIN latest_models m USING (model_id, sha)
        ORDER BY m.downloads DESC NULLS LAST, s.model_id LIMIT ?""", [limit]).fetchall()
    keys = ("model_id", "sha", "family", "author", "license", "downloads", "gated", "fully_open", "semi_open",
            "closed", "unknown", "not_applicable", "mof_class", "osaid")
    models = [dict(zip(keys, row)) for row in shown]
    cells = _cells(con, [(m["model_id"], m["sha"]) for m in models])
    for model in models:
        model["cells"] = [cells.get((model["model_id"], model["sha"], key)) for key in COMPONENT_KEYS]
    return {"components": list(COMPONENT_KEYS), "models": models, "totals": _totals(con),
            "labels": _label_counts(con), "licences": _licence_counts(con), "families": _families(con, models)}


def _cells(con, commits: list[tuple[str, str]]) -> dict:
    if not commits:
        return {}
    rows = con.execute("""
        SELECT c.model_id, c.sha, c.component, c.label, c.level, c.reason, c.licences, c.points, c.confidence,
               c.inherited_from, c.evidence
        FROM classifications c JOIN (SELECT unnest(?::VARCHAR[]) AS model_id, unnest(?::VARCHAR[]) AS sha) w
             USING (model_id, sha)""", [[m for m, _ in commits], [s for _, s in commits]]).fetchall()
    found = {}
    for model_id, sha, component, label, level, reason, licences, points, confidence, inherited, evidence in rows:
        found[(model_id, sha, component)] = {
            "label": label, "level": level, "reason": reason, "licences": json.loads(licences or "[]"), "points": points,
            "confidence": confidence, "inherited_from": inherited,
            "evidence": [{k: e.get(k) for k in ("url", "path", "line_start", "snippet")}
                         for e in json.loads(evidence or "[]")[:MAX_EVIDENCE]]}
    return found


def _totals(con) -> dict:
    row = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE mof_class = 'I'), count(*) FILTER (WHERE mof_class = 'II'),
               count(*) FILTER (WHERE mof_class = 'III'), count(*) FILTER (WHERE mof_class IS NULL),
               count(*) FILTER (WHERE osaid = 'open_source_ai')
        FROM model_summaries s JOIN latest_models m USING (model_id, sha)""").fetchall()[0]
    return dict(zip(("models", "mof_i", "mof_ii", "mof_iii", "mof_none", "open_source_ai"), row))


def _label_counts(con) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {key: {} for key in COMPONENT_KEYS}
    for component, label, n in con.execute("""
            SELECT c.component, c.label, count(*) FROM classifications c JOIN latest_models m USING (model_id, sha)
            GROUP BY ALL""").fetchall():
        counts.setdefault(component, {})[label] = n
    return counts


def _licence_counts(con, top: int = 20) -> list[dict]:
    rows = con.execute("""
        SELECT coalesce(m.license, '(none)') AS licence, count(*) AS models,
               count(*) FILTER (WHERE c.level = 5) AS open_weights
        FROM latest_models m JOIN model_summaries s USING (model_id, sha)
        LEFT JOIN classifications c ON c.model_id = m.model_id AND c.sha = m.sha AND c.component = 'deployment.data.weights'
        GROUP BY ALL ORDER BY models DESC, licence LIMIT ?""", [top]).fetchall()
    return [{"licence": l, "models": n, "open_weights": o} for l, n, o in rows]


def _families(con, models: list[dict], top: int = 50) -> list[dict]:
    families = sorted({m["family"] for m in models})[:1000]
    rows = con.execute("""
        SELECT family, component, models, most_open_label FROM family_components
        WHERE family IN (SELECT unnest(?::VARCHAR[]))""", [families]).fetchall()
    by_family: dict[str, dict] = {}
    for family, component, n, label in rows:
        entry = by_family.setdefault(family, {"family": family, "models": 0, "cells": {}})
        entry["models"] = max(entry["models"], n)
        entry["cells"][component] = label
    ranked = sorted(by_family.values(), key=lambda f: (-f["models"], f["family"]))[:top]
    return [{"family": f["family"], "models": f["models"], "cells": [f["cells"].get(k) for k in COMPONENT_KEYS]}
            for f in ranked if f["models"] > 1]
