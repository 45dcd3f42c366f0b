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
import pickle
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa

from openness.classification.scale.changes import BASE
from openness.classification.scale.codec import decode, encode, encode_any
from openness.classification.taxonomy.dossier import dossier_from_rows
from openness.classification.taxonomy.engine import Cell, Dossier, classify, stages_named, summary
from openness.classification.taxonomy.inputs import FINDING_ID, INFO, INPUTS, JSON, TEXTS
from openness.classification.taxonomy.families import family_of
from openness.classification.taxonomy.frameworks import verdicts
from openness.classification.taxonomy.rules import rules
from openness.classification.scale.shapes import (COMMIT, CONTROL_BYTES, MODEL, Shape, ShapeMemo, Template,
                                                  finding_marker, holds_control, shape_of)
from openness.warehouse.staging import arrow_schema


@dataclass
class ChunkInput:
    keys: list[tuple[str, str]]                 # (model id, sha), bases before their derivatives
    run_id: str
    classifier_version: str
    rows: dict = field(default_factory=dict)    # input name (inputs.py) -> its rows: model_id, sha, its fields
    state: pa.Table | None = None       # model_id, sha, inputs_fp, links_fp (its inputs now), stored, stored_fp
    bases: dict = field(default_factory=dict)           # model id -> its base ids
    base_cells: dict = field(default_factory=dict)      # base id -> its cells (encode_cells), the bases classified
    redo: dict = field(default_factory=dict)            # model id -> why it is redone
    affected: set = field(default_factory=set)          # built on a base whose cells changed in this run
    needed_later: set = field(default_factory=set)      # bases of models still to come: their cells go back
    templates_only: bool = False                        # make the models' shapes' templates, write nothing


@dataclass
class ChunkOutput:
    cells: pa.Table                              # classifications rows to write
    summaries: pa.Table                          # model_summaries rows to write
    replacing: bool                              # some of them replace stored rows
    cells_of: dict = field(default_factory=dict)         # model id -> its cells encoded, for the models needed later
    changed: set = field(default_factory=set)            # models whose cells came out other than stored
    redone: Counter = field(default_factory=Counter)     # why the written ones were redone
    by_label: Counter = field(default_factory=Counter)   # cells written, by label
    peak_rss_mb: int | None = None                       # of the process that classified it, so far
    models_read: int = 0                                 # the chunk's models, written or not
    templates: dict = field(default_factory=dict)        # templates_only: model id -> its shape's Template, or None


def classify_chunk(chunk: ChunkInput) -> ChunkOutput:
    """Classify the chunk's models: write those to redo, and those built on a base whose cells
    changed when their own cells come out other than stored; the rest are classified only for the
    derivatives' sake (their cells go back in `cells_of`)."""
    with cycle_collector_paused():
        return _templates(chunk) if chunk.templates_only else _classify_chunk(chunk)


@contextmanager
def cycle_collector_paused():
    """Without the cycle collector inside the block. Classification piles up millions of
    containers (a chunk's rows; a run's plan of a million models), and each pass of the collector
    walks them all again: a tenth of the time or more. Nothing it makes holds a cycle; what the
    collector would have found is found when it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _classify_chunk(chunk: ChunkInput) -> ChunkOutput:
    the_rules, base_prints, shapes, models = _opened(chunk)
    cell_rows, summary_rows, summary_parts = [], [], []
    out = ChunkOutput(pa.table({}), pa.table({}), False)  # the tables are made at the end
    for model, fingerprints in models:
        model_id = model.model_id
        wanted = model_id in chunk.redo or model_id in chunk.affected
        if model_id in chunk.needed_later:  # its cells go on to its derivatives: made from its own inputs
            dossier = model.dossier()
            cells = classify(dossier, the_rules)
            out.cells_of[model_id] = encode_cells(cells)
            if not wanted:
                continue  # an ancestor, classified for its derivatives only
            values, summary_part, labels = _made(dossier, cells, the_rules)
            printed = _printed(values)
        else:
            values, printed, summary_part, labels = _made_by_shape(model, shapes, base_prints, the_rules)
        cells_fp = _digest(printed)
        inputs_fp, links_fp, stored, stored_fp = fingerprints
        if cells_fp != stored_fp:
            out.changed.add(model_id)
        elif model_id not in chunk.redo:
            continue  # built on a changed base, and its own cells are as they were
        reason = chunk.redo.get(model_id, BASE)
        cell_rows += values
        summary_rows.append((model_id, model.sha, family_of(model_id), inputs_fp, links_fp, cells_fp, reason))
        summary_parts.append(summary_part)
        out.redone[reason] += 1
        out.by_label.update(labels)
        out.replacing = out.replacing or bool(stored)
    out.cells = _cells_table(cell_rows, chunk.run_id)
    out.summaries = _summaries_table(summary_rows, summary_parts, {
        "rules_version": the_rules.version, "run_id": chunk.run_id, "classifier_version": chunk.classifier_version})
    out.peak_rss_mb = peak_rss_mb()
    out.models_read = len(chunk.keys)
    return out


def _templates(chunk: ChunkInput) -> ChunkOutput:
    """The templates of the chunk's models' shapes (None for a model without a shape), for the
    warehouse to fill each model of those shapes in (fill.py)."""
    the_rules, base_prints, shapes, models = _opened(chunk)
    out = ChunkOutput(pa.table({}), pa.table({}), False)
    for model, _ in models:
        shape = model.shape(the_rules, base_prints) if base_prints is not None else None
        out.templates[model.model_id] = _template(model, shape, shapes, the_rules) if shape is not None else None
    out.peak_rss_mb = peak_rss_mb()
    return out


def _opened(chunk: ChunkInput) -> tuple:
    """What classifying the chunk's models starts from: the rules, its bases' digests (None: its
    models are classified one by one, _base_prints), this process's shapes, and its models."""
    the_rules = rules()
    bases = {base: decoded(blob) for base, blob in chunk.base_cells.items()}
    return (the_rules, _base_prints(chunk, bases), _SHAPES.scoped(the_rules, chunk.classifier_version),
            _models(chunk, {base: cells for base, (cells, _, _) in bases.items()}))


def _template(model: "_Model", shape: Shape, shapes: ShapeMemo, the_rules) -> Template:
    """The template of the model's shape: the memo's, or made from the model's inputs as its shape."""
    template = shapes.get(shape.key)
    if template is None:
        dossier = model.dossier(shape)
        template = Template.of(*_made(dossier, classify(dossier, the_rules), the_rules))
        shapes.keep(shape.key, template)
    return template


def _made(dossier: Dossier, cells: dict[str, Cell], the_rules) -> tuple[list[tuple], dict, list[str]]:
    """A model's cell rows, what its summary row takes of its cells, and the cells' labels."""
    return (_cell_rows(dossier, cells, the_rules.version),
            {**summary(cells), **verdicts(cells, dossier, the_rules.frameworks)},
            [cell.label for cell in cells.values()])


def _made_by_shape(model: "_Model", shapes: ShapeMemo, base_prints: dict | None,
                   the_rules) -> tuple[list[tuple], str, dict, list[str]]:
    """As _made, with the rows' repr (their fingerprint's text), from the rows of the model's shape
    when one like it was classified before in this process (shapes.py), else classifying it: its
    own way when it has no shape, else as its shape."""
    shape = model.shape(the_rules, base_prints) if base_prints is not None else None
    if shape is None:
        dossier = model.dossier()
        values, summary_part, labels = _made(dossier, classify(dossier, the_rules), the_rules)
        return values, _printed(values), summary_part, labels
    template = _template(model, shape, shapes, the_rules)
    return (*template.fill(model.model_id, model.sha, shape.finding_ids), template.summary, template.labels)


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


@dataclass
class _Model:
    """One model commit's rows as the chunk holds them (per input, fields in their declared order),
    JSON still text."""
    model_id: str
    sha: str
    rows: dict                      # input name -> its rows
    bases: dict                     # base id -> its cells, for the bases known to it

    def dossier(self, shape: Shape | None = None) -> Dossier:
        """Its dossier; with its shape, the shape's (identity marked, shapes.py)."""
        if shape is None:
            return dossier_from_rows(self.model_id, self.sha, _as_dicts(self.rows, lambda finding_id: finding_id), self.bases)
        dossier = dossier_from_rows(MODEL, COMMIT, _as_dicts(shape.rows, finding_marker), self.bases)
        dossier.named_stages = shape.stages  # read from its own id, which the shape's dossier does not hold
        return dossier

    def shape(self, the_rules, base_prints: dict[str, bytes]) -> Shape | None:
        """Its shape (shapes.py), or None when it is to be classified on its own."""
        info = self.rows.get("info")
        tags = info[0][_TAGS] if info else None
        return shape_of(self.model_id, self.sha, stages_named(self.model_id, tags, the_rules), self.rows,
                        tuple((base, base_prints[base]) for base in self.bases))


_TAGS = INFO.names().index("tags")


def _as_dicts(rows: dict[str, list[tuple]], finding_id) -> dict[str, list[dict]]:
    """Rows as the dossier takes them: dicts of the declared fields, JSON decoded, lists as lists,
    each finding id through `finding_id` (a shape's: its marker's number to the marker)."""
    out = {}
    for declared in INPUTS:
        kinds = [(f.name, f.kind, f.identity == FINDING_ID) for f in declared.fields]
        out[declared.name] = [{name: (finding_id(value) if is_id else decode(value) if kind == JSON and value is not None
                                      else list(value) if kind == TEXTS and value is not None else value)
                               for (name, kind, is_id), value in zip(kinds, row)}
                              for row in rows.get(declared.name, ())]
    return out


_SHAPES = ShapeMemo()  # this process's, across chunks and runs: a shape's key holds all it depends on


def encode_cells(cells: dict[str, Cell]) -> bytes:
    """A base's cells as they travel to the chunks of later levels: encoded once, by the process
    that made them, and decoded once by each process that classifies a derivative (decoded)."""
    return pickle.dumps(cells, protocol=pickle.HIGHEST_PROTOCOL)


_DECODED: dict[bytes, tuple] = {}  # this process's: encoded cells -> (cells, holds a control character, digest)


def decoded(blob: bytes) -> tuple[dict, bool, bytes]:
    """A base's cells from their encoding, whether their texts hold a control character, and a
    digest of them: each made once a process, for the thousands of derivatives of a popular base
    (kept by the encoding itself: the same bytes are the same cells, whichever run sent them)."""
    found = _DECODED.get(blob)
    if found is None:
        cells = pickle.loads(blob)
        found = (cells, holds_control(_cell_texts(cells)), hashlib.sha256(blob).digest())
        if len(_DECODED) >= 8192:  # a worker's memory stays bounded (~20 KB a base: its bytes, its cells)
            del _DECODED[next(iter(_DECODED))]
        _DECODED[blob] = found
    return found


def _base_prints(chunk: ChunkInput, bases: dict[str, tuple]) -> dict[str, bytes] | None:
    """A digest of each base's cells, which a shape holds in their place; None when some input of
    the chunk holds a control character, so that its models are classified one by one (shapes.py).
    The texts are looked at once for the whole chunk, column by column. `bases`: decoded's."""
    if any(_texts_hold_control(table) for table in chunk.rows.values()):
        return None
    if any(control for _, control, _ in bases.values()):
        return None
    return {base: digest for base, (_, _, digest) in bases.items()}


def _texts_hold_control(table: pa.Table) -> bool:
    """Whether a text column of the table holds a control character, or its escape in JSON text:
    their bytes searched as they are (a few milliseconds a chunk; Arrow's own search is ten times slower)."""
    for column in table.columns:
        for array in column.chunks:
            if pa.types.is_list(array.type):
                array = array.flatten()
            if not pa.types.is_string(array.type):
                continue
            # a slice of a block shares the block's buffers: its own bytes only, or one model's
            # control character would send every chunk of the block the slow way
            data = pa.concat_arrays([array]).buffers()[2] if len(array) else None
            if data is not None:
                text = data.to_pybytes()
                if any(mark in text for mark in CONTROL_BYTES):
                    return True
    return False


def _cell_texts(cells: dict[str, Cell]) -> list:
    """A base's cells as the texts a derivative's rows may copy."""
    texts = []
    for cell in cells.values():
        texts += [cell.reason, cell.label, cell.inherited_from, *cell.finding_ids, encode_any(cell.evidence),
                  encode(cell.licences), encode(cell.search) if cell.search else None]
    return texts


def _models(chunk: ChunkInput, base_cells: dict[str, dict]):
    """The chunk's models, one at a time, each with its fingerprints (inputs_fp, links_fp,
    stored, stored_fp). Bases' cells come from earlier levels only (`base_cells`, decoded): nothing
    in a chunk feeds anything else in it, so how a level is cut into chunks never changes a cell."""
    rows = {name: _by_key(table) for name, table in chunk.rows.items()}
    state = _by_key(chunk.state)
    for key in chunk.keys:
        model_id, sha = key
        found = state.get(key)
        yield _Model(model_id, sha, {name: grouped.get(key, []) for name, grouped in rows.items()},
                     {b: base_cells[b] for b in chunk.bases.get(model_id, ()) if b in base_cells}), \
            (found[0] if found else (None, None, None, None))


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
    return _digest(_printed(rows))


def _printed(rows: list[tuple]) -> str:
    return "".join(map(repr, rows))


def _digest(printed: str) -> str:
    return hashlib.sha256(printed.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _cells_table(rows: list[tuple], run_id: str) -> pa.Table:
    """Cell rows (CELL_COLUMNS' order) as one Arrow table with the run's id, turned into columns in
    one go: cheaper than taking each model's rows apart as they come, and than from_pylist."""
    schema = arrow_schema("classifications")
    named = _columns(CELL_COLUMNS, rows) | {"run_id": [run_id] * len(rows)}
    return pa.table({f.name: pa.array(named[f.name], type=f.type) for f in schema}, schema=schema)


def _columns(names: tuple[str, ...], rows: list[tuple]) -> dict[str, tuple]:
    """Rows of these fields as columns by name, turned over in one go."""
    return dict(zip(names, zip(*rows) if rows else [() for _ in names]))


SUMMARY_OWN = ("model_id", "sha", "family", "inputs_fp", "links_fp", "cells_fp", "redone_because")


def _summaries_table(rows: list[tuple], parts: list[dict], constants: dict) -> pa.Table:
    """Summary rows as one Arrow table: each model's own values (SUMMARY_OWN's order), what it takes
    of its cells (`parts`, a dict each, shared by the models of a shape), and the run's constants."""
    schema = arrow_schema("model_summaries")
    own = _columns(SUMMARY_OWN, rows)

    def column(name: str):
        if name in own:
            return own[name]
        if name in constants:
            return [constants[name]] * len(rows)
        return [part.get(name) for part in parts]
    return pa.table({f.name: pa.array(column(f.name), type=f.type) for f in schema}, schema=schema)


__all__ = ["ChunkInput", "ChunkOutput", "cells_fingerprint", "classify_chunk"]
