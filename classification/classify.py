"""`openness classify`: the taxonomy's rules over the latest commit of every model, into
`classifications` (one row per component) and `model_summaries`.

Only the models whose inputs changed since their last classification are redone (changes.py says
what counts and why), unless a full run is asked for. Dossiers are read in batches with set-based
SQL (findings, what the links led to); base models are classified before their derivatives, so
inherited cells come from their bases' own cells.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from dataclasses import dataclass, field

import pyarrow as pa

from openness.warehouse.db import batch_keys, connect, write_registered
from openness.warehouse.runs import new_run_id
from openness.warehouse.staging import arrow_schema
from openness.classification import changes
from openness.classification.changes import CHOSEN_DATASETS, CHOSEN_REPOS, UNRESOLVED_REASON
from openness.classification.dossier import Paper, build_dossier
from openness.classification.engine import Cell, Dossier, classify, summary
from openness.classification.families import family_of
from openness.classification.frameworks import verdicts
from openness.classification.errors import NotClassified
from openness.warehouse.errors import WarehouseMissing
from openness.classification.rules import COMPONENT_KEYS, rules

MAX_CHAIN = 8  # base_model chains longer than this are cut (and cycles broken)


@dataclass
class ClassifyResult:
    run_id: str
    rules_version: int
    classifier_version: str = ""
    models: int = 0                                         # models whose cells were written
    unchanged: int = 0                                      # latest models left as they were
    redone: dict[str, int] = field(default_factory=dict)    # why the written ones were redone
    by_label: dict[str, int] = field(default_factory=dict)  # cells written, by label
    seconds: float = 0.0


def classify_warehouse(warehouse_path, model_ids: list[str] | None = None, batch_size: int = 10_000,
                       full: bool = False) -> ClassifyResult:
    """Classify what changed since the last run: every latest model with `full`; with `model_ids`,
    those models and their base models; then whatever is built on a model whose cells changed."""
    if not Path(warehouse_path).exists():
        raise WarehouseMissing(f"no warehouse at {warehouse_path}: run `openness crawl` first")
    started = time.monotonic()
    the_rules = rules()
    version = changes.classifier_version()
    result = ClassifyResult(run_id="classify-" + new_run_id(), rules_version=the_rules.version,
                            classifier_version=version)
    with connect(warehouse_path) as con:
        bases = _base_edges(con)
        latest, stale = changes.stale_models(con, version)
        if model_ids:
            redo = {m: changes.ASKED for m in changes.ancestors(model_ids, bases) if m in latest}
        elif full:
            redo = {m: changes.FULL for m in latest}
        else:
            redo = stale
        downstream = changes.descendants(redo, bases) - set(redo)  # redone when a base's cells change
        order = _in_chain_order([(m, latest[m]) for m in sorted(changes.ancestors(set(redo) | downstream, bases))
                                 if m in latest], bases)
        _classify_in_order(con, order, bases, redo, downstream, the_rules, version, batch_size, result)
        result.unchanged = len(latest) - result.models
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _classify_in_order(con, order, bases, redo: dict[str, str], downstream: set[str], the_rules, version: str,
                       batch_size: int, result: ClassifyResult) -> None:
    """Classify `order` (bases first); write the models to redo, and the downstream ones whose
    cells came out other than stored. The rest are classified only for their derivatives' sake."""
    needed_later = {b for targets in bases.values() for b in targets}
    cells_of: dict[str, dict[str, Cell]] = {}
    changed_cells: set[str] = set()
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        fingerprints, stored = changes.fingerprints_of(con, chunk)
        rows, summaries = [], []
        for dossier in _dossiers(con, chunk, bases, cells_of):
            model_id = dossier.model_id
            affected = model_id in downstream and not changed_cells.isdisjoint(bases.get(model_id, ()))
            if model_id not in redo and not affected:
                if model_id in needed_later:  # an ancestor: its cells feed a derivative
                    cells_of[model_id] = classify(dossier, the_rules)
                continue
            cells = classify(dossier, the_rules)
            if model_id in needed_later:
                cells_of[model_id] = cells
            cell_rows = [_row(dossier, cell, the_rules.version, result.run_id) for cell in cells.values()]
            cells_fp = changes.cells_fingerprint(cell_rows)
            if cells_fp != stored.get(model_id):
                changed_cells.add(model_id)
            elif model_id not in redo:
                continue  # downstream of a change that left its own cells as they were
            reason = redo.get(model_id, changes.BASE)
            inputs_fp, links_fp = fingerprints.get(model_id, (None, None))
            rows += cell_rows
            summaries.append({"model_id": model_id, "sha": dossier.sha, "family": family_of(model_id),
                              **summary(cells), **verdicts(cells, dossier, the_rules.frameworks),
                              "rules_version": the_rules.version, "run_id": result.run_id,
                              "classifier_version": version, "inputs_fp": inputs_fp, "links_fp": links_fp,
                              "cells_fp": cells_fp, "redone_because": reason})
            result.redone[reason] = result.redone.get(reason, 0) + 1
            for cell in cells.values():
                result.by_label[cell.label] = result.by_label.get(cell.label, 0) + 1
        _replace(con, rows, summaries, replacing=any(s["model_id"] in stored for s in summaries))
        result.models += len(summaries)


def _base_edges(con) -> dict[str, list[str]]:
    """model id -> the ids its base_model links resolved to, among stored models."""
    rows = con.execute("""
        SELECT DISTINCT l.model_id, coalesce(t.resolved_id, l.target) AS base
        FROM model_links l JOIN latest_models m USING (model_id, sha)
        LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
        WHERE l.kind = 'base_model' AND coalesce(t.resolved_id, l.target) IN (SELECT model_id FROM latest_models)
          AND coalesce(t.resolved_id, l.target) <> l.model_id
        ORDER BY 1, 2  -- a merge's bases in one order every time: ties between them never fall to chance
    """).fetchall()
    edges: dict[str, list[str]] = defaultdict(list)
    for model, base in rows:
        edges[model].append(base)
    return edges


def _in_chain_order(models: list[tuple[str, str]], bases: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Roots first, then each derivative after its bases (cycles and over-long chains cut)."""
    depth: dict[str, int] = {}

    def depth_of(model: str, seen: tuple = ()) -> int:
        if model in depth:
            return depth[model]
        if model in seen or len(seen) >= MAX_CHAIN:
            return 0
        value = 1 + max((depth_of(b, seen + (model,)) for b in bases.get(model, ())), default=-1)
        depth[model] = value
        return value

    return sorted(models, key=lambda m: (depth_of(m[0]), m[0]))


def _dossiers(con, chunk, bases, cells_of):
    with batch_keys(con, "wanted", chunk):
        info = {(m, s): ({"tags": tags or [], "pipeline_tag": p, "library_name": lib}, card or "ok")
                for m, s, tags, p, lib, card in con.execute(
                    "SELECT model_id, sha, tags, pipeline_tag, library_name, card_status FROM models "
                    "JOIN wanted USING (model_id, sha)").fetchall()}
        findings: dict[tuple, list[dict]] = defaultdict(list)
        for m, s, fid, signal, value, confidence, evidence in con.execute(
                "SELECT model_id, sha, finding_id, signal, value, confidence, evidence FROM findings "
                "JOIN wanted USING (model_id, sha) ORDER BY model_id, signal, finding_id").fetchall():
            findings[(m, s)].append({"finding_id": fid, "signal": signal, "value": json.loads(value),
                                     "confidence": confidence, "evidence": json.loads(evidence)})
        repos, paper_repos, datasets = _followed(con)
        papers = _papers(con)
    # built one at a time, as the caller classifies them: a base earlier in the chunk is classified
    # by the time its derivative's dossier asks for its cells
    for model_id, sha in chunk:
        model_info, card_status = info.get((model_id, sha), ({}, "no_readme"))
        yield build_dossier(model_id, sha, model_info, findings.get((model_id, sha), []), repos.get((model_id, sha), {}),
                            paper_repos.get((model_id, sha), {}), datasets.get((model_id, sha), {}),
                            {b: cells_of[b] for b in bases.get(model_id, ()) if b in cells_of}, card_status,
                            papers.get((model_id, sha), []))


def _followed(con) -> tuple[dict, dict, dict]:
    """What the batch's code and dataset links led to, per model commit; and which code its own
    papers name (target -> paper)."""
    repos: dict[tuple, dict] = defaultdict(dict)
    paper_repos: dict[tuple, dict] = defaultdict(dict)
    for m, s, paper, target, status, reason, transient, roles, licence_ids, host, evidence, licence_findings, docs \
            in con.execute(f"""
        WITH code_links AS (
            SELECT model_id, sha, NULL AS paper, kind, target FROM model_links JOIN wanted USING (model_id, sha)
            WHERE kind = 'code'
            UNION SELECT model_id, sha, paper, kind, target FROM paper_code_links JOIN wanted USING (model_id, sha)
        )
        SELECT l.model_id, l.sha, l.paper, l.target, coalesce(t.status, 'pending'), {UNRESOLVED_REASON}, coalesce(t.transient, false),
               c.roles, c.licence_ids, c.host_licence, c.role_evidence, c.licence_findings, c.doc_findings
        FROM code_links l
        LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
        LEFT JOIN {CHOSEN_REPOS} c
               ON c.repo = coalesce(t.resolved_id, l.target)
        ORDER BY l.model_id, l.sha, l.target, l.paper NULLS FIRST""").fetchall():  # the same paper each time
        repos[(m, s)][target] = {"status": status, "reason": reason, "transient": transient, "roles": roles or [],
                                 "licence_ids": licence_ids or [], "host_licence": host,
                                 "role_evidence": _role_evidence(evidence), **_repo_licence_facts(licence_findings),
                                 "documents": json.loads(docs) if docs else {}}
        if paper is not None:
            paper_repos[(m, s)].setdefault(target, paper)
    datasets: dict[tuple, dict] = defaultdict(dict)
    for m, s, target, licence_ids in con.execute(f"""
        SELECT l.model_id, l.sha, l.target, d.licence_ids
        FROM model_links l JOIN wanted USING (model_id, sha)
        JOIN link_targets t ON t.kind = l.kind AND t.target = l.target AND t.status = 'resolved'
        JOIN {CHOSEN_DATASETS} d
               ON d.dataset_id = coalesce(t.resolved_id, l.target)
        WHERE l.kind = 'dataset'""").fetchall():
        if licence_ids:
            datasets[(m, s)][target] = list(licence_ids)
    return repos, paper_repos, datasets


def _papers(con) -> dict:
    """The batch's papers, with what following each one found."""
    papers: dict[tuple, list[Paper]] = defaultdict(list)
    for m, s, target, relevance, status, reason, transient, hub_page, github in con.execute(f"""
        SELECT l.model_id, l.sha, l.target, coalesce(l.relevance, 'own'), coalesce(t.status, 'pending'), {UNRESOLVED_REASON},
               coalesce(t.transient, false), p.hub_page, p.github_repo
        FROM model_links l JOIN wanted USING (model_id, sha)
        LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
        LEFT JOIN papers p ON p.paper_id = l.target
        WHERE l.kind = 'paper' ORDER BY l.target""").fetchall():
        papers[(m, s)].append(Paper(target, relevance, status, reason, transient, hub_page, github))
    return papers


def _role_evidence(raw: str | None) -> list[dict]:
    """The repo's role evidence as evidence entries (path, line, snippet), for the cells it supports."""
    return [{"path": e["path"], "line_start": e.get("line_start"), "snippet": e["snippet"], "role": e["role"],
             **({"source": e["source"]} if e.get("source") == "fallback" else {})}
            for e in json.loads(raw or "[]")]


def _repo_licence_facts(raw: str | None) -> dict:
    """From a repo's licence findings: the licences of its model licence files, and its README's
    statement that its licence covers the models too."""
    findings = json.loads(raw or "[]")
    model_licences = sorted({f["value"]["id"] for f in findings if f.get("signal") == "licence.identified"
                             and f["value"].get("scope") == "model" and f["value"].get("id")})
    covers = next(({"statement": f["value"].get("statement"), "evidence": f.get("evidence")} for f in findings
                   if f.get("signal") == "licence.covers_models"), None)
    return {"model_licences": model_licences, "covers_models": covers}


def _row(dossier: Dossier, cell: Cell, version: int, run_id: str) -> dict:
    return {"model_id": dossier.model_id, "sha": dossier.sha, "component": cell.component, "level": cell.level,
            "label": cell.label, "reason": cell.reason,
            "licences": json.dumps(cell.licences, sort_keys=True) if cell.licences else "[]",
            "points": cell.points, "confidence": cell.confidence, "finding_ids": cell.finding_ids,
            "evidence": json.dumps(cell.evidence, sort_keys=True, default=str) if cell.evidence else "[]",
            "inherited_from": cell.inherited_from,
            "search": json.dumps(cell.search, sort_keys=True) if cell.search else None,
            "rules_version": version, "run_id": run_id}


def _replace(con, rows: list[dict], summaries: list[dict], replacing: bool) -> None:
    """The batch's cells and summaries in place of their old ones (replacing: some are stored), in
    one transaction. Deleted, then inserted: DuckDB's INSERT OR REPLACE is five times slower when
    most rows exist already; and a batch of first classifications deletes nothing, since a delete
    reads the whole table."""
    done = "(SELECT model_id, sha FROM new_summaries)"
    deletes = [f"DELETE FROM classifications WHERE (model_id, sha) IN {done}",
               f"DELETE FROM model_summaries WHERE (model_id, sha) IN {done}"] if replacing else []
    write_registered(con, {"new_cells": pa.Table.from_pylist(rows, schema=arrow_schema("classifications")),
                           "new_summaries": pa.Table.from_pylist(summaries, schema=arrow_schema("model_summaries"))},
                     deletes + ["INSERT INTO classifications BY NAME SELECT * FROM new_cells",
                                "INSERT INTO model_summaries BY NAME SELECT * FROM new_summaries"])


def explain(warehouse_path, model_id: str) -> dict:
    """The twelve cells of a model's latest classified commit, each with its licences and
    evidence, in the documented shape (docs/classification.md, `openness explain`)."""
    with connect(warehouse_path, read_only=True) as con:
        found = con.execute("SELECT c.sha FROM model_summaries c JOIN latest_models m USING (model_id, sha) "
                            "WHERE c.model_id = ?", [model_id]).fetchall()
        if not found:
            known = con.execute("SELECT count(*) FROM models WHERE model_id = ?", [model_id]).fetchall()[0][0]
            raise NotClassified(f"{model_id} is {'not classified yet: run `openness classify`' if known else 'not in the warehouse'}")
        sha = found[0][0]
        cells = con.execute("SELECT component, level, label, reason, licences, points, confidence, finding_ids, "
                            "evidence, inherited_from, rules_version, search FROM classifications "
                            "WHERE model_id = ? AND sha = ?", [model_id, sha]).fetchall()
        names = ("family", "fully_open", "semi_open", "closed", "closed_not_found", "closed_stated", "unknown",
                 "not_applicable", "mof_class", "mof_missing", "osaid", "osaid_missing")
        totals = con.execute(f"SELECT {', '.join(names)} FROM model_summaries WHERE model_id = ? AND sha = ?",
                             [model_id, sha]).fetchall()[0]
        links = [{"kind": k, "target": t, "relevance": r, "why": w, "status": st} for k, t, r, w, st in con.execute(
            "SELECT kind, target, relevance, relevance_why, status FROM links WHERE model_id = ? AND sha = ? "
            "AND kind IN ('code', 'paper') ORDER BY kind, relevance, target", [model_id, sha]).fetchall()]
    order = {key: i for i, key in enumerate(COMPONENT_KEYS)}
    components = {}
    for key, level, label, reason, licences, points, confidence, finding_ids, evidence, inherited, version, search in sorted(
            cells, key=lambda c: order.get(c[0], 99)):
        components[key] = {"level": level, "label": label, "reason": reason, "licenses": json.loads(licences or "[]"),
                           "points": points, "confidence": confidence, "inherited_from": inherited,
                           "finding_ids": list(finding_ids or []), "evidence": json.loads(evidence or "[]"),
                           "search": json.loads(search) if search else None}
    return {"model_id": model_id, "sha": sha, "rules_version": cells[0][10] if cells else None,
            "components": components, "summary": dict(zip(names, totals)), "links": links}
