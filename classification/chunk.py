"""One chunk of classification, pure: the rows the warehouse holds for a batch of model commits in,
their cells and summaries out as Arrow tables ready to insert. No database: classify.py reads the
rows and writes the tables, and runs this in worker processes (one per core) or in its own.

Everything a worker needs travels in a `ChunkInput` (rows as the warehouse gave them, JSON still
text: decoding it is a good part of the work, so the workers do it), everything it found in a
`ChunkOutput`. Both pickle, so the same function serves a process pool and a plain call, and the
cells are the same bytes whichever way they were made.
"""
from __future__ import annotations

import gc
import hashlib
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from openness.classification.changes import BASE
from openness.classification.codec import decode, encode, encode_any
from openness.classification.dossier import Paper, build_dossier
from openness.classification.engine import Cell, Dossier, classify, summary
from openness.classification.families import family_of
from openness.classification.frameworks import verdicts
from openness.classification.rules import rules
from openness.warehouse.staging import arrow_schema


@dataclass
class ChunkInput:
    keys: list[tuple[str, str]]                 # (model id, sha), bases before their derivatives
    run_id: str
    classifier_version: str
    info: pa.Table | None = None        # model_id, sha, tags, pipeline_tag, library_name, card_status,
                                        # inputs_fp, links_fp (its inputs now), stored, stored_fp (its cells')
    findings: pa.Table | None = None    # model_id, sha, finding_id, signal, value, confidence, evidence
    repos: dict = field(default_factory=dict)           # key -> {target: (status, reason, transient, roles, ...)}
    paper_repos: dict = field(default_factory=dict)     # key -> {target: paper id}
    datasets: dict = field(default_factory=dict)        # key -> {target: licence ids}
    papers: dict = field(default_factory=dict)          # key -> [Paper]
    bases: dict = field(default_factory=dict)           # model id -> its base ids
    base_cells: dict = field(default_factory=dict)      # base id -> its cells, for the bases already classified
    redo: dict = field(default_factory=dict)            # model id -> why it is redone
    affected: set = field(default_factory=set)          # built on a base whose cells changed in this run
    needed_later: set = field(default_factory=set)      # bases of models still to come: their cells go back


@dataclass
class ChunkOutput:
    cells: pa.Table                              # classifications rows to write
    summaries: pa.Table                          # model_summaries rows to write
    replacing: bool                              # some of them replace stored rows
    cells_of: dict = field(default_factory=dict)         # model id -> cells, for the models needed later
    changed: set = field(default_factory=set)            # models whose cells came out other than stored
    redone: Counter = field(default_factory=Counter)     # why the written ones were redone
    by_label: Counter = field(default_factory=Counter)   # cells written, by label
    peak_rss_mb: int | None = None                       # of the process that classified it, so far
    models_read: int = 0                                 # the chunk's models, written or not


def classify_chunk(chunk: ChunkInput) -> ChunkOutput:
    """Classify the chunk's models: write those to redo, and those built on a base whose cells
    changed when their own cells come out other than stored; the rest are classified only for the
    derivatives' sake (their cells go back in `cells_of`).

    Without the cycle collector while it runs: the chunk's rows and summaries pile up (millions of
    containers), and each pass of the collector walks them all again: a tenth of the time or more.
    Nothing it makes holds a cycle; what the collector would have found is found when it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _classify_chunk(chunk)
    finally:
        if enabled:
            gc.enable()


def _classify_chunk(chunk: ChunkInput) -> ChunkOutput:
    the_rules = rules()
    cell_columns, summary_rows = _CellColumns(), []
    out = ChunkOutput(pa.table({}), pa.table({}), False)  # the tables are made at the end
    for dossier, fingerprints in _dossiers(chunk):
        model_id = dossier.model_id
        cells = classify(dossier, the_rules)
        if model_id in chunk.needed_later:
            out.cells_of[model_id] = cells
        if model_id not in chunk.redo and model_id not in chunk.affected:
            continue  # an ancestor, classified for its derivatives only
        values = _cell_rows(dossier, cells, the_rules.version)
        cells_fp = cells_fingerprint(values)
        inputs_fp, links_fp, stored, stored_fp = fingerprints
        if cells_fp != stored_fp:
            out.changed.add(model_id)
        elif model_id not in chunk.redo:
            continue  # built on a changed base, and its own cells are as they were
        reason = chunk.redo.get(model_id, BASE)
        cell_columns.extend(values)
        summary_rows.append({"model_id": model_id, "sha": dossier.sha, "family": family_of(model_id),
                             **summary(cells), **verdicts(cells, dossier, the_rules.frameworks),
                             "rules_version": the_rules.version, "run_id": chunk.run_id,
                             "classifier_version": chunk.classifier_version, "inputs_fp": inputs_fp,
                             "links_fp": links_fp, "cells_fp": cells_fp, "redone_because": reason})
        out.redone[reason] += 1
        out.by_label.update(cell.label for cell in cells.values())
        out.replacing = out.replacing or bool(stored)
    out.cells = cell_columns.table(chunk.run_id)
    out.summaries = _table(summary_rows, arrow_schema("model_summaries"))
    out.peak_rss_mb = peak_rss_mb()
    out.models_read = len(chunk.keys)
    return out


def peak_rss_mb() -> int | None:
    """This process's peak resident memory since it started (Linux's VmHWM; None elsewhere). Not
    getrusage: a spawned worker's ru_maxrss counts the parent's pages it held between fork and exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return None


def _dossiers(chunk: ChunkInput):
    """The chunk's dossiers, one at a time, each with its fingerprints (inputs_fp, links_fp,
    stored, stored_fp). Bases' cells come from earlier levels only (`base_cells`): nothing in a
    chunk feeds anything else in it, so how a level is cut into chunks never changes a cell."""
    info, findings_of = _by_key(chunk.info), _by_key(chunk.findings)
    for key in chunk.keys:
        model_id, sha = key
        tags, pipeline_tag, library, card_status, *fingerprints = (
            info.get(key) or [([], None, None, "no_readme", None, None, None, None)])[0]
        model_info = {"tags": tags or [], "pipeline_tag": pipeline_tag, "library_name": library} if key in info else {}
        findings = [{"finding_id": fid, "signal": signal, "value": decode(value), "confidence": confidence,
                     "evidence": decode(evidence)} for fid, signal, value, confidence, evidence in findings_of.get(key, ())]
        followed = {target: repo_facts(row) for target, row in chunk.repos.get(key, {}).items()}
        dossier = build_dossier(model_id, sha, model_info, findings, followed, chunk.paper_repos.get(key, {}),
                                chunk.datasets.get(key, {}),
                                {b: chunk.base_cells[b] for b in chunk.bases.get(model_id, ()) if b in chunk.base_cells},
                                card_status or "ok", chunk.papers.get(key, []))
        yield dossier, fingerprints


def _by_key(table: pa.Table | None) -> dict[tuple, list[tuple]]:
    """A table whose first columns are model_id and sha as (model id, sha) -> its rows' other
    values, in the table's order."""
    grouped: dict[tuple, list[tuple]] = {}
    if table is None:
        return grouped
    columns = [column.to_pylist() for column in table.columns]
    for model_id, sha, *rest in zip(*columns):
        grouped.setdefault((model_id, sha), []).append(tuple(rest))
    return grouped


def repo_facts(row: tuple) -> dict:
    """A followed code repo's row (as classify.py reads it) as the facts a dossier takes."""
    status, reason, transient, roles, licence_ids, host, evidence, licence_findings, docs = row
    return {"status": status, "reason": reason, "transient": transient, "roles": roles or [],
            "licence_ids": licence_ids or [], "host_licence": host, "role_evidence": _role_evidence(evidence),
            **_repo_licence_facts(licence_findings), "documents": decode(docs) if docs else {}}


def _role_evidence(raw: str | None) -> list[dict]:
    """The repo's role evidence as evidence entries (path, line, snippet), for the cells it supports."""
    return [{"path": e["path"], "line_start": e.get("line_start"), "snippet": e["snippet"], "role": e["role"],
             **({"source": e["source"]} if e.get("source") == "fallback" else {})}
            for e in decode(raw or "[]")]


def _repo_licence_facts(raw: str | None) -> dict:
    """From a repo's licence findings: the licences of its model licence files, and its README's
    statement that its licence covers the models too."""
    findings = decode(raw or "[]")
    model_licences = sorted({f["value"]["id"] for f in findings if f.get("signal") == "licence.identified"
                             and f["value"].get("scope") == "model" and f["value"].get("id")})
    covers = next(({"statement": f["value"].get("statement"), "evidence": f.get("evidence")} for f in findings
                   if f.get("signal") == "licence.covers_models"), None)
    return {"model_licences": model_licences, "covers_models": covers}


# -- rows ------------------------------------------------------------------------------------

CELL_COLUMNS = ("model_id", "sha", "component", "level", "label", "reason", "licences", "points", "confidence",
                "finding_ids", "evidence", "inherited_from", "search", "rules_version")  # and the run id


def _cell_rows(dossier: Dossier, cells: dict[str, Cell], version: int) -> list[tuple]:
    """A model's classifications rows, in CELL_COLUMNS' order (the run's id is added as the table
    is made). Its cells share their search records (the same object): each is encoded once."""
    model_id, sha, rows, searches = dossier.model_id, dossier.sha, [], {}
    for cell in cells.values():
        search = cell.search
        if search:
            key = id(search)  # alive while the cells are, so it stays theirs
            search = searches.get(key)
            if search is None:
                search = searches[key] = encode(cell.search)
        rows.append((model_id, sha, cell.component, cell.level, cell.label, cell.reason,
                     encode(cell.licences) if cell.licences else "[]", cell.points, cell.confidence, cell.finding_ids,
                     encode_any(cell.evidence) if cell.evidence else "[]", cell.inherited_from, search or None, version))
    return rows


def cells_fingerprint(rows: list[tuple]) -> str:
    """A model's twelve cell rows as written, the run id aside. The values are already text,
    numbers and lists of text, so their repr is stable and far cheaper than encoding them again."""
    text = "".join(map(repr, rows))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows of one shape as an Arrow table, column by column (several times faster than
    from_pylist, which looks every key up in every row through Arrow's generic path)."""
    return pa.table({f.name: pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema}, schema=schema)


class _CellColumns:
    """Cell rows gathered column by column, made into one Arrow table at the end (no dict per row)."""

    def __init__(self):
        self.schema = arrow_schema("classifications")
        self.columns: list[list] = [[] for _ in CELL_COLUMNS]

    def extend(self, rows: list[tuple]) -> None:
        for column, values in zip(self.columns, zip(*rows)):
            column.extend(values)

    def table(self, run_id: str) -> pa.Table:
        named = dict(zip(CELL_COLUMNS, self.columns), run_id=[run_id] * len(self.columns[0]))
        return pa.table({f.name: pa.array(named[f.name], type=f.type) for f in self.schema}, schema=self.schema)


__all__ = ["ChunkInput", "ChunkOutput", "Paper", "cells_fingerprint", "classify_chunk", "repo_facts"]
