"""`openness classify`: the taxonomy's rules over the latest commit of every model, into
`classifications` (one row per component) and `model_summaries`.

Only the models whose inputs changed since their last classification are redone (changes.py says
what counts and why), unless a full run is asked for. Base models are classified a level before
their derivatives, so inherited cells come from their bases' own cells. Within a level, the
warehouse works out each model's shape (fill.py); the rules run in worker processes (chunk.py,
workers.py) once per new shape, and on their own for the models the warehouse cannot vouch for,
whose dossiers are read in batches with set-based SQL (findings, what the links led to); the
warehouse writes the rest from their shapes' templates.
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from openness.extractors.locations import dump_note
from openness.warehouse.db import batch_keys, connect, write_registered
from openness.warehouse.runs import new_run_id
from openness.classification.scale import changes, fill
from openness.classification.scale.licence_table import write_licences
from openness.classification.scale.changes import BASE
from openness.classification.scale.chunk import ChunkInput, cycle_collector_paused, decoded
from openness.classification.taxonomy.engine import stages_in
from openness.classification.taxonomy.families import family_of
from openness.classification.errors import NotClassified
from openness.classification.scale.workers import chunk_runner
from openness.warehouse.errors import WarehouseMissing
from openness.classification.taxonomy.inputs import BASE_LINKS, INPUTS
from openness.classification.taxonomy.rules import COMPONENT_KEYS, rules

MAX_CHAIN = 8  # base_model chains longer than this are cut (and cycles broken)
# Models a chunk: twelve cells each make 122,880 rows, one DuckDB row group, which a transaction
# writes straight to the file; a part of one goes through the write-ahead log first (written
# twice): 10,000 models a chunk took 1.7 times as long to insert.
CHUNK_MODELS = 10_240
# Chunks (of batch_size models) read from the warehouse in one go: each read scans the findings'
# keys whole, so at a million models 81,920 a read cost 1.4 s of CPU per 40,960 models against
# 2.0 s for reads of 40,960, for ~80 MB more held at once.
READ_CHUNKS = 8
# Blocks (of batch_size * READ_CHUNKS models) whose shapes are worked out in one query: each such
# query reads the findings' keys whole, as a read does, and holds a row per model (its finding ids).
# At a million models, 2 took 82.7 s and 3.3 GB at most; 1, 93.0 s and 2.9 GB; 8, 82.4 s and 4.3 GB.
SHAPE_BLOCKS = 2


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
    workers: int = 1                                        # processes that classified
    peak_rss_mb_worker: int | None = None                   # the most any of them held (MB)


def classify_warehouse(warehouse_path, model_ids: list[str] | None = None, batch_size: int = CHUNK_MODELS,
                       full: bool = False, workers: int | None = None, missing_ok: bool = False,
                       progress: Callable[[int, int], None] | None = None) -> ClassifyResult:
    """Classify what changed since the last run: every latest model with `full`; with `model_ids`,
    those models and their base models (one not in the warehouse is an error, unless `missing_ok`);
    then whatever is built on a model whose cells changed. `workers`: processes classifying at
    once (default: one per core; 1 classifies in this one). `progress(done, total)`: called as
    each chunk is written, in models read (the ones redone and the bases they need)."""
    if not Path(warehouse_path).exists():
        raise WarehouseMissing(f"no warehouse at {warehouse_path}: run `openness crawl` first")
    with cycle_collector_paused():
        return _classify_warehouse(warehouse_path, model_ids, batch_size, full, workers, missing_ok, progress)


def _classify_warehouse(warehouse_path, model_ids, batch_size, full, workers, missing_ok, progress) -> ClassifyResult:
    started = time.monotonic()
    the_rules = rules()
    version = changes.classifier_version()
    result = ClassifyResult(run_id="classify-" + new_run_id(), rules_version=the_rules.version,
                            classifier_version=version)
    with connect(warehouse_path) as con:
        bases = _base_edges(con)
        latest, stale = changes.stale_models(con, version)
        if model_ids:
            unknown = sorted(set(model_ids) - latest.keys())
            if unknown and not missing_ok:  # a typo would otherwise classify nothing and say so as success
                raise NotClassified(f"not in the warehouse: {', '.join(unknown)} (nothing was classified; "
                                    f"crawl it first, e.g. `openness crawl --model {unknown[0]}`)")
            redo = {m: changes.ASKED for m in changes.ancestors(model_ids, bases) if m in latest}
        elif full:
            redo = {m: changes.FULL for m in latest}
        else:
            redo = stale
        unfinished = changes.start_run(con, result.run_id)
        write_licences(con)  # the knowledge the cells are made with, for queries to join
        # a run killed after a base level was written left derivatives built on the old cells
        for model in changes.descendants(changes.written_by(con, unfinished), bases):
            if model in latest:
                redo.setdefault(model, BASE)
        downstream = changes.descendants(redo, bases) - set(redo)  # redone when a base's cells change
        wanted = sorted(changes.ancestors(set(redo) | downstream, bases) & latest.keys())
        plan = _Plan(bases, _chain_depths(wanted, bases), redo, downstream, result.run_id, version)
        _classify_levels(con, plan, [(m, latest[m]) for m in wanted], batch_size, workers, result, progress)
        changes.finish_run(con, result.run_id, unfinished)
        result.unchanged = len(latest) - result.models
    result.seconds = round(time.monotonic() - started, 3)
    return result


@dataclass
class _Plan:
    """What a run is to do, and what it learned so far: the cells of the bases classified (for
    their derivatives) and which models' cells changed (for what is built on them)."""
    bases: dict[str, list[str]]
    depth: dict[str, int]
    redo: dict[str, str]
    downstream: set[str]
    run_id: str
    version: str
    cells_of: dict[str, bytes] = field(default_factory=dict)  # as chunk.encode_cells made them
    changed: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.needed_later = {b for targets in self.bases.values() for b in targets}

    def affected(self, model_id: str) -> bool:
        return model_id in self.downstream and not self.changed.isdisjoint(self.bases.get(model_id, ()))

    def todo(self, model_id: str) -> bool:
        return model_id in self.redo or model_id in self.needed_later or self.affected(model_id)

    def base_cells(self, model_id: str) -> dict:
        """The cells of its bases classified in an earlier level (a base in a cycle or beyond
        MAX_CHAIN may come later: then it is not known to this model, in every run alike)."""
        return {b: self.cells_of[b] for b in self.bases.get(model_id, ())
                if b in self.cells_of and self.depth[b] < self.depth[model_id]}


def _classify_levels(con, plan: _Plan, models: list[tuple[str, str]], batch_size: int, workers: int | None,
                     result: ClassifyResult, progress: Callable[[int, int], None] | None = None) -> None:
    """Level by level of the base_model chains (roots first), each level in chunks that are
    classified in parallel: nothing in a level is built on anything else in it."""
    levels: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key in models:
        levels[plan.depth[key[0]]].append(key)
    workers = result.workers = _workers(workers) if len(models) > batch_size else 1
    done = 0
    templates = fill.Templates()
    fill.create_template_tables(con)
    with chunk_runner(workers) as run:
        for depth in sorted(levels):
            todo = [key for key in levels[depth] if plan.todo(key[0])]
            done += len(levels[depth]) - len(todo)  # nothing to do for these
            block = batch_size * READ_CHUNKS
            for i in range(0, len(todo), block * SHAPE_BLOCKS):
                for python_way, filled in _by_the_warehouse(con, todo[i:i + block * SHAPE_BLOCKS], plan, templates,
                                                            run, result.workers, block):
                    _count(result, filled.models, filled.redone, filled.by_label)
                    done += filled.models_read
                    if progress:
                        progress(done, len(models))
                    done = _by_python(con, python_way, plan, batch_size, run, result, done, len(models), progress)
            if progress:  # a level with nothing to do counts too
                progress(done, len(models))


def _by_python(con, keys, plan, batch_size, run, result, done, total, progress) -> int:
    """Models the warehouse cannot fill in, classified in the workers and their rows written here."""
    if not keys:
        return done
    for out in run(_split(_read(con, keys, plan), batch_size)):
        _replace(con, out.cells, out.summaries, out.replacing)
        plan.cells_of.update(out.cells_of)
        plan.changed |= out.changed
        _count(result, out.summaries.num_rows, out.redone, out.by_label)
        result.peak_rss_mb_worker = max(result.peak_rss_mb_worker or 0, out.peak_rss_mb or 0) or None
        done += out.models_read
        if progress:
            progress(done, total)
    return done


def _count(result: ClassifyResult, models: int, redone: dict, by_label: dict) -> None:
    result.models += models
    for counts, more in ((result.redone, redone), (result.by_label, by_label)):
        for key, n in more.items():
            counts[key] = counts.get(key, 0) + n


def _by_the_warehouse(con, keys: list[tuple[str, str]], plan: _Plan, templates: "fill.Templates", run,
                      workers: int, block: int):
    """The models whose shape the warehouse can fill in, written (fill.py) a block at a time after
    the workers made the new shapes' templates; with each block, the rest of its models, in their
    order, for the Python way."""
    the_rules = rules()
    shapes = fill.shapes_of_block(con, keys, _base_rows(keys, plan))
    sha_of = dict(keys)
    python_way, fills, new = set(), {}, {}
    for model_id, eligible, key, key2, names in zip(*(shapes.column(c).to_pylist() for c in shapes.column_names)):
        if not eligible or model_id in plan.needed_later:
            python_way.add(model_id)
            continue
        shape, is_new = templates.number((key, key2, stages_in(names, the_rules, model_id)))
        if is_new:
            new[model_id] = shape
        fills[model_id] = shape
    if new:
        made = _templates(con, [(m, sha_of[m]) for m in new], plan, run, workers)
        templates.keep(con, {shape: made.get(model_id) for model_id, shape in new.items()})
    run_constants = {"run_id": plan.run_id, "rules_version": the_rules.version, "classifier_version": plan.version}
    for start in range(0, len(keys), block):
        part = keys[start:start + block]
        models = _fill_models(part, fills, templates, plan, python_way)
        filled = fill.write_block(con, models, run_constants, templates.labels)
        yield [key for key in part if key[0] in python_way], filled


def _fill_models(keys: list[tuple[str, str]], fills: dict, templates: "fill.Templates", plan: _Plan,
                 python_way: set) -> dict[str, list]:
    """The fill_models columns (fill.py) of these models whose shape has a template the warehouse
    fills in; the others join `python_way`."""
    models: dict[str, list] = {"model_id": [], "sha": [], "shape": [], "family": [], "reason": [], "redo": []}
    for model_id, sha in keys:
        shape = fills.get(model_id)
        if shape is None or shape in templates.python_only:
            python_way.add(model_id)
            continue
        redo = plan.redo.get(model_id)
        for name, value in zip(models, (model_id, sha, shape, family_of(model_id), redo or BASE, redo is not None)):
            models[name].append(value)
    return models


def _base_rows(keys: list[tuple[str, str]], plan: _Plan) -> dict:
    """The bases each model of the block is built on, as its shape holds them (fill.shapes_of_block)."""
    rows: dict = {"model_id": [], "sha": [], "n": [], "base": [], "digest": [], "plain": []}
    for model_id, sha in keys:
        if model_id in plan.bases:
            for n, (base, blob) in enumerate(plan.base_cells(model_id).items()):
                _, control, digest = decoded(blob)
                for name, value in zip(rows, (model_id, sha, n, base, digest, not control)):
                    rows[name].append(value)
    return rows


def _templates(con, keys: list[tuple[str, str]], plan: _Plan, run, workers: int) -> dict:
    """The templates of these models' shapes, made by the workers (model id -> Template, or None)."""
    data = _read(con, keys, plan)
    data.templates_only = True
    made: dict = {}
    for out in run(_split(data, max(1, min(CHUNK_MODELS, -(-len(keys) // workers))))):  # every worker busy
        made.update(out.templates)
    return made


def _workers(asked: int | None) -> int:
    if asked is not None:
        return max(1, asked)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _split(block: ChunkInput, size: int):
    """A block read in one go, as chunks of `size` models for the workers. Each of the block's
    rows and items is looked at once, whatever the number of chunks."""
    if len(block.keys) <= size:
        yield block
        return
    keys = [block.keys[start:start + size] for start in range(0, len(block.keys), size)]
    chunk_of = {m: n for n, chunk in enumerate(keys) for m, _ in chunk}
    rows = {name: _rows_by_chunk(table, block.keys, size) for name, table in block.rows.items()}
    state = _rows_by_chunk(block.state, block.keys, size)

    def by_chunk(values, model_of) -> list:  # a dict or a set, cut the same way
        if isinstance(values, dict):
            parts: list = [{} for _ in keys]
            for key, value in values.items():
                parts[chunk_of[model_of(key)]][key] = value
        else:
            parts = [set() for _ in keys]
            for key in values:
                parts[chunk_of[model_of(key)]].add(key)
        return parts

    parts = {name: by_chunk(getattr(block, name), lambda m: m)
             for name in ("bases", "redo", "affected", "needed_later")}
    for n, chunk in enumerate(keys):
        base_cells = {b: block.base_cells[b] for m, _ in chunk for b in block.bases.get(m, ()) if b in block.base_cells}
        yield ChunkInput(chunk, block.run_id, block.classifier_version, rows={name: cut[n] for name, cut in rows.items()},
                         state=state[n], base_cells=base_cells, templates_only=block.templates_only,
                         **{name: values[n] for name, values in parts.items()})


def _rows_by_chunk(table: pa.Table, keys: list[tuple[str, str]], size: int) -> list[pa.Table]:
    """A table's rows (with a model_id column) cut by the chunk of `size` keys their model is in,
    each chunk's rows in the table's order: slices when the table is in the keys' order already."""
    ids = pa.array([m for m, _ in keys], pa.string())
    numbers = pc.divide(pc.index_in(table.column("model_id"), value_set=ids), size)  # integers: floor
    if numbers.null_count:
        raise ValueError("a row of a model not in the block")  # the queries join the block's keys: never
    if len(numbers) > 1 and not pc.all(pc.greater_equal(numbers[1:], numbers[:-1])).as_py():
        order = pc.sort_indices(numbers)  # stable: each chunk's rows keep the table's order
        table, numbers = table.take(order), numbers.take(order)
    counts = {item["values"]: item["counts"] for item in pc.value_counts(numbers).to_pylist()}
    out, start = [], 0
    for n in range((len(keys) + size - 1) // size):
        out.append(table.slice(start, counts.get(n, 0)))
        start += counts.get(n, 0)
    return out


def _read(con, chunk: list[tuple[str, str]], plan: _Plan) -> ChunkInput:
    """What the warehouse holds for a block of models, as rows (workers decode them), and what the
    run knows of them. Each query scans its table once per block, whatever the block's size: read
    per chunk, the scans cost more than the classifying at a million models."""
    ids = [m for m, _ in chunk]
    data = ChunkInput(chunk, plan.run_id, plan.version, bases={m: plan.bases[m] for m in ids if m in plan.bases},
                      base_cells={b: c for m in ids for b, c in plan.base_cells(m).items()},
                      redo={m: plan.redo[m] for m in ids if m in plan.redo},
                      affected={m for m in ids if plan.affected(m)},
                      needed_later={m for m in ids if m in plan.needed_later})
    with batch_keys(con, "wanted", chunk):
        # as Arrow: turning them into Python objects is the workers' part. Each input as declared
        # (inputs.py); with each commit, its inputs' fingerprints now (changes.py), and whether
        # cells are stored for it and theirs.
        data.rows = {declared.name: con.sql(declared.sql("wanted")).to_arrow_table() for declared in INPUTS}
        data.state = con.sql(
            "SELECT w.model_id, w.sha, i.inputs_fp, i.links_fp, s.sha IS NOT NULL AS stored, s.cells_fp AS stored_fp "
            "FROM wanted w LEFT JOIN input_fingerprints i USING (model_id, sha) "
            "LEFT JOIN model_summaries s USING (model_id, sha)").to_arrow_table()
    return data


def _base_edges(con) -> dict[str, list[str]]:
    """model id -> the ids its base_model links resolved to, among stored models."""
    rows = con.execute(f"""
        SELECT DISTINCT model_id, base FROM ({BASE_LINKS.rows.format(keys="latest_models")})
        WHERE stored AND base <> model_id
        ORDER BY 1, 2  -- a merge's bases in one order every time: ties between them never fall to chance
    """).fetchall()
    edges: dict[str, list[str]] = defaultdict(list)
    for model, base in rows:
        edges[model].append(base)
    return edges


def _chain_depths(models: list[str], bases: dict[str, list[str]]) -> dict[str, int]:
    """Each model's level: 0 for a root, else one more than its deepest base (cycles and chains
    longer than MAX_CHAIN cut)."""
    depth: dict[str, int] = {}

    def depth_of(model: str, seen: tuple = ()) -> int:
        known = depth.get(model)
        if known is not None:
            return known
        if model in seen or len(seen) >= MAX_CHAIN:
            return 0
        path = seen + (model,)
        value = depth[model] = 1 + max([depth_of(b, path) for b in bases.get(model, ())], default=-1)
        return value

    for model in models:
        if model in bases:
            depth_of(model)
        else:
            depth[model] = 0  # a root, as depth_of would say: most models, without a call each
    return depth


def _replace(con, cells: pa.Table, summaries: pa.Table, replacing: bool) -> None:
    """The batch's cells and summaries in place of their old ones (replacing: some are stored), in
    one transaction. Deleted, then inserted: DuckDB's INSERT OR REPLACE is five times slower when
    most rows exist already; and a batch of first classifications deletes nothing, since a delete
    reads the whole table."""
    done = "(SELECT model_id, sha FROM new_summaries)"
    deletes = [f"DELETE FROM classifications WHERE (model_id, sha) IN {done}",
               f"DELETE FROM model_summaries WHERE (model_id, sha) IN {done}"] if replacing else []
    write_registered(con, {"new_cells": cells, "new_summaries": summaries},
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
        read_from = _dump_notes(con, model_id, sha, [json.loads(c[8] or "[]") for c in cells])
        links = [{"kind": k, "target": t, "relevance": r, "why": w, "status": st} for k, t, r, w, st in con.execute(
            "SELECT kind, target, relevance, relevance_why, status FROM links WHERE model_id = ? AND sha = ? "
            "AND kind IN ('code', 'paper') ORDER BY kind, relevance, target", [model_id, sha]).fetchall()]
    order = {key: i for i, key in enumerate(COMPONENT_KEYS)}
    components = {}
    for key, level, label, reason, licences, points, confidence, finding_ids, evidence, inherited, version, search in sorted(
            cells, key=lambda c: order.get(c[0], 99)):
        components[key] = {"level": level, "label": label, "reason": reason, "licenses": json.loads(licences or "[]"),
                           "points": points, "confidence": confidence, "inherited_from": inherited,
                           "finding_ids": list(finding_ids or []),
                           "evidence": [_with_note(e, read_from) for e in json.loads(evidence or "[]")],
                           "search": json.loads(search) if search else None}
    return {"model_id": model_id, "sha": sha, "rules_version": cells[0][10] if cells else None,
            "card_read_from": read_from.get((model_id, sha)),
            "components": components, "summary": dict(zip(names, totals)), "links": links}


def _dump_notes(con, model_id: str, sha: str, evidence_lists: list[list[dict]]) -> dict[tuple[str, str], str]:
    """{(model, commit): note} for the cards among a model's evidence (its own, and its bases' for
    inherited cells) that a crawl read from a card dump rather than from the repo."""
    commits = {(model_id, sha)} | {(e.get("repo"), e.get("revision")) for items in evidence_lists for e in items
                                   if e.get("source") == "model" and e.get("path") == "README.md"}
    return card_dump_notes(con, commits)


def card_dump_notes(con, commits) -> dict[tuple[str, str], str]:
    """{(model, commit): note} for those (model, commit) pairs whose README a crawl read from a card
    dump (crawl --bootstrap); explain and the report say so beside its evidence."""
    commits = [(m, s) for m, s in commits if isinstance(m, str) and isinstance(s, str)]
    if not commits:
        return {}
    found = con.execute(
        "SELECT model_id, sha, dump_dataset, dump_revision, dump_file, dump_row, dump_date FROM documents "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS model_id, unnest(?::VARCHAR[]) AS sha) USING (model_id, sha) "
        "WHERE path = 'README.md' AND dump_dataset IS NOT NULL",
        [[m for m, _ in commits], [s for _, s in commits]]).fetchall()
    return {(m, s): dump_note(dataset, revision, file, row, date, s) for m, s, dataset, revision, file, row, date in found}


def _with_note(evidence: dict, notes: dict[tuple[str, str], str]) -> dict:
    note = notes.get((evidence.get("repo"), evidence.get("revision"))) if evidence.get("path") == "README.md" else None
    return {**evidence, "read_from": note} if note else evidence
