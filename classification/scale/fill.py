"""Models of a known shape written by the warehouse itself. shapes.py classifies each shape of
input once and fills each model's rows in from the shape's, in Python, once per model; at a
million models that filling, moving the rows between processes and turning them into Arrow cost
more than the rules. Here the warehouse does it: a query gives each model of a block the digest of
its inputs with its identity taken out (as shapes.py takes it out), the workers make one template
per new digest, and INSERT ... SELECT writes every model's rows from its template, putting its id,
commit and finding ids back with `replace` and working out its cells' fingerprint with `sha256`,
in DuckDB's threads. The rows and fingerprints are the same bytes as the Python way's
(tests/test_fill.py keeps that true).

A model goes the Python way (chunk.py) when this one cannot vouch for it: its identity is not
plain text, some input of it holds a control character, it is a base whose cells later levels
need, or its template holds a finding marker outside a list of finding ids.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from openness.classification.scale.input_sql import shapes_sql
from openness.classification.scale.shapes import Template
from openness.warehouse.db import batch_keys, transaction, write_registered

# The markers as the warehouse's templates hold them: one spelling for plain and JSON texts alike
# (an identity is plain text, which JSON writes as it is), none of which an eligible input holds.
MARK_M, MARK_S = "\x01M\x01", "\x01S\x01"
_SPELLINGS = {MARK_M: ("\x00M\x01", "\\u0000M\\u0001"), MARK_S: ("\x00S\x01", "\\u0000S\\u0001")}
_FINDING = re.compile("\x00F(\\d+)\x01\\Z")
_LEFT_OVER = ("\x00", "\\u0000")  # a finding marker left inside a text: not for the warehouse


# One row per model commit of the block: whether the warehouse may fill it in, its shape's
# digests, its finding ids and its names for the stage words (input_sql.py, from the declaration
# of what the engine reads).
SHAPES_SQL = shapes_sql()

_TEXTS = ("component", "label", "reason", "licences", "evidence", "inherited_from", "search")


def _marked(column: str) -> str:
    return f"CASE WHEN t.marked THEN replace(replace(t.{column}, '{MARK_M}', f.model_id), '{MARK_S}', f.sha) ELSE t.{column} END"


# The block's models filled in: their cells' fingerprint from their template's printed rows, and
# whether they are written (redone, or built on a base whose cells changed and their own did too).
FILL_SQL = f"""
CREATE OR REPLACE TEMP TABLE block_fill AS
SELECT b.model_id, b.sha, b.shape, b.family, b.reason, b.redo, s.inputs_fp, s.links_fp, s.stored, s.fids,
       left(sha256(replace(replace(p.head || array_to_string(list_transform(p.slots, lambda n, j: s.fids[n + 1] || p.rest[j]), ''),
                                   '{MARK_M}', b.model_id), '{MARK_S}', b.sha)), 16) AS cells_fp,
       s.stored_fp
FROM fill_models b JOIN block_shapes s USING (model_id, sha) JOIN tpl_printed p USING (shape)
"""
WRITTEN = "(f.redo OR f.cells_fp IS DISTINCT FROM f.stored_fp)"
INSERT_CELLS = f"""
INSERT INTO classifications BY NAME
SELECT f.model_id, f.sha, {', '.join(f'{_marked(c)} AS {c}' for c in _TEXTS)}, t.level, t.points, t.confidence,
       CASE WHEN t.slotted THEN list_transform(t.slots, lambda n, j: CASE WHEN n >= 0 THEN f.fids[n + 1] ELSE t.finding_ids[j] END)
            ELSE t.finding_ids END AS finding_ids,
       t.rules_version, $run_id AS run_id
FROM block_fill f JOIN tpl_cells t USING (shape)
WHERE {WRITTEN}
"""


@dataclass
class Templates:
    """A run's shapes, numbered: the warehouse holds their rows (tpl_cells), printed rows
    (tpl_printed) and summary parts (tpl_summ); a shape whose template the warehouse cannot fill
    goes the Python way."""
    numbers: dict = field(default_factory=dict)     # (key, key2, stages) -> shape number
    python_only: set = field(default_factory=set)   # shape numbers
    labels: dict = field(default_factory=dict)      # shape number -> its cells' labels

    def number(self, key: tuple) -> tuple[int, bool]:
        """The shape's number, and whether it is new."""
        found = self.numbers.get(key)
        if found is not None:
            return found, False
        n = self.numbers[key] = len(self.numbers)
        return n, True

    def keep(self, con, made: dict[int, Template | None]) -> None:
        """New shapes' templates (shape number -> its template), into the warehouse's tables in one
        insert each; a shape without one the warehouse can fill goes the Python way."""
        cells, printed, summaries = [], [], []
        for shape, template in made.items():
            rows = for_warehouse(template) if template is not None else None
            if rows is None:
                self.python_only.add(shape)
                continue
            self.labels[shape] = template.labels
            cells += [{"shape": shape, **cell} for cell in rows[0]]
            printed.append({"shape": shape, **rows[1]})
            summaries.append({"shape": shape, **rows[2]})
        if printed:
            _insert(con, {"tpl_cells": cells, "tpl_printed": printed, "tpl_summ": summaries})


def _insert(con, rows: dict[str, list[dict]]) -> None:
    """Rows into the template tables, each as an Arrow table of its table's own schema."""
    tables = {f"new_{table}": pa.Table.from_pylist(items, schema=con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema)
              for table, items in rows.items()}
    write_registered(con, tables, [f"INSERT INTO {table} BY NAME SELECT * FROM new_{table}" for table in rows])


def create_template_tables(con) -> None:
    """The run's template tables, empty (temporary: this connection's)."""
    con.execute("CREATE OR REPLACE TEMP TABLE tpl_cells (shape INTEGER, component VARCHAR, level INTEGER, label VARCHAR, "
                "reason VARCHAR, licences VARCHAR, points INTEGER, confidence DOUBLE, finding_ids VARCHAR[], "
                "slots INTEGER[], slotted BOOLEAN, evidence VARCHAR, inherited_from VARCHAR, search VARCHAR, "
                "rules_version INTEGER, marked BOOLEAN)")
    con.execute("CREATE OR REPLACE TEMP TABLE tpl_printed (shape INTEGER, head VARCHAR, slots INTEGER[], rest VARCHAR[])")
    con.execute(f"CREATE OR REPLACE TEMP TABLE tpl_summ AS SELECT NULL::INTEGER AS shape, {', '.join(SUMMARY_PARTS)} "
                "FROM model_summaries LIMIT 0")  # the summary's own types


# What a model's summary takes of its cells: its template's.
SUMMARY_PARTS = ("fully_open", "semi_open", "closed", "unknown", "not_applicable", "mof_class", "mof_missing", "osaid",
                 "osaid_missing", "closed_not_found", "closed_stated")


def for_warehouse(template: Template) -> tuple[list[dict], dict, dict] | None:
    """A template as the warehouse's rows: its cell rows, its printed rows cut at the finding
    markers, its summary parts; None when a finding marker sits where the warehouse does not put
    one back (inside a text) or the summary holds a marker."""
    cells = []
    for fields in template.rows:
        component, level, label, reason, licences, points, confidence, finding_ids, evidence, inherited, search, version = fields
        texts = {name: _unified(value) for name, value in
                 zip(_TEXTS, (component, label, reason, licences, evidence, inherited, search))}
        if any(value is not None and any(mark in value for mark in _LEFT_OVER) for value in texts.values()):
            return None
        slots, literals = [], []
        for item in finding_ids:
            found = _FINDING.match(item)
            if found:
                slots.append(int(found[1]))
                literals.append("")
            elif "\x00" in item or "\x01" in item:
                return None
            else:
                slots.append(-1)
                literals.append(item)
        cells.append({**texts, "level": level, "points": points, "confidence": confidence, "finding_ids": literals,
                      "slots": slots, "slotted": any(n >= 0 for n in slots), "rules_version": version,
                      "marked": any(value is not None and "\x01" in value for value in texts.values())})
    if any("\x00" in str(value) or "\x01" in str(value) for value in template.summary.values()):
        return None
    return cells, _printed(template.printed), {name: template.summary.get(name) for name in SUMMARY_PARTS}


def _unified(value: str | None) -> str | None:
    if value is None:
        return None
    for mark, spellings in _SPELLINGS.items():
        for spelling in spellings:
            value = value.replace(spelling, mark)
    return value


def _printed(fmt: str) -> dict:
    """A template's printed rows (a format string: {0} the model id, {1} the commit, {n+2}
    finding n) as the text before the first finding marker and, per finding marker, its number
    and the text after it, the model id and commit as markers."""
    head, slots, rest = [""], [], []

    def add(text: str) -> None:
        if slots:
            rest[-1] += text
        else:
            head[0] += text

    for literal, name, _, _ in string.Formatter().parse(fmt):  # doubled braces come out single
        add(literal)
        if name is not None:
            n = int(name)
            if n < 2:
                add(MARK_M if n == 0 else MARK_S)
            else:
                slots.append(n - 2)
                rest.append("")
    return {"head": head[0], "slots": slots, "rest": rest}


INSERT_SUMMARIES = f"""
INSERT INTO model_summaries BY NAME
SELECT f.model_id, f.sha, f.family, f.inputs_fp, f.links_fp, f.cells_fp, f.reason AS redone_because,
       t.* EXCLUDE (shape), $rules_version AS rules_version, $run_id AS run_id, $classifier_version AS classifier_version
FROM block_fill f JOIN tpl_summ t USING (shape)
WHERE {WRITTEN}
"""


@dataclass
class Filled:
    """What the warehouse wrote for a block."""
    models: int = 0
    models_read: int = 0   # the block's models it filled in, written or not
    redone: Counter = field(default_factory=Counter)
    by_label: Counter = field(default_factory=Counter)


def shapes_of_block(con, keys: list[tuple[str, str]], base_rows: dict) -> pa.Table:
    """Each model commit of the block with whether the warehouse may fill it in, its digest and
    its names (block_shapes holds the rest). `base_rows`: model_id, sha, n, base, digest, plain
    columns of the bases each model is built on, as the Python way's shapes hold them."""
    con.register("block_bases", pa.table(base_rows, schema=_BASES))
    try:
        with batch_keys(con, "wanted", keys):
            con.execute(SHAPES_SQL)
    finally:
        con.unregister("block_bases")
    return con.sql("SELECT model_id, eligible, key, key2, names FROM block_shapes").to_arrow_table()


_BASES = pa.schema([("model_id", pa.string()), ("sha", pa.string()), ("n", pa.int32()), ("base", pa.string()),
                    ("digest", pa.binary()), ("plain", pa.bool_())])


def write_block(con, models: dict, run: dict, labels: dict[int, list[str]]) -> Filled:
    """The block's models of known shapes, their cells and summaries written in one transaction
    (their old ones deleted first). `models`: the fill_models columns; `run`: run_id,
    rules_version, classifier_version; `labels`: a shape's cells' labels."""
    filled = Filled()
    if not models["model_id"]:
        return filled
    filled.models_read = len(models["model_id"])
    write_registered(con, {"fill_models": pa.table(models)}, [FILL_SQL])
    written = f"FROM block_fill f WHERE {WRITTEN}"
    replacing = con.execute(f"SELECT count(*) {written} AND f.stored").fetchall()[0][0]
    with transaction(con):
        if replacing:  # a delete reads the whole table: only when some rows are stored (classify._replace)
            for table in ("classifications", "model_summaries"):
                con.execute(f"DELETE FROM {table} WHERE (model_id, sha) IN (SELECT f.model_id, f.sha {written} AND f.stored)")
        con.execute(INSERT_CELLS, {"run_id": run["run_id"]})
        con.execute(INSERT_SUMMARIES, run)
    for shape, reason, n in con.execute(f"SELECT f.shape, f.reason, count(*) {written} GROUP BY ALL").fetchall():
        filled.models += n
        filled.redone[reason] += n
        for label in labels[shape]:
            filled.by_label[label] += n
    return filled
