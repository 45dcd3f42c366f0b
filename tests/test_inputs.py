"""The one declaration of what the engine reads (classification/taxonomy/inputs.py) and everything
made from it agree: each read gives the declared fields, the dossier reads every declared field
and no other, and a model's shape and fingerprints change with every declared field (a list's
boundaries included) but a shape never with a model's identity."""
from __future__ import annotations

import dataclasses
import hashlib

import duckdb
import pyarrow as pa
import pytest

from openness.classification.scale.input_sql import fingerprints_sql, shapes_sql
from openness.classification.taxonomy.dossier import dossier_from_rows
from openness.classification.taxonomy.inputs import (BASE_LINKS, FINDING_ID, FLAG, INPUTS, JSON, MARKED, NUMBER,
                                                     TEXTS)
from openness.warehouse.db import batch_keys, connect

EVERY = INPUTS + (BASE_LINKS,)


def test_every_read_gives_model_id_sha_and_the_declared_fields_in_their_order(tmp_path):
    with connect(tmp_path / "w.duckdb") as con, batch_keys(con, "wanted", [("o/m", "s")]):
        for declared in EVERY:
            columns = [row[0] for row in con.execute(f"DESCRIBE {declared.sql('wanted')}").fetchall()]
            assert columns == ["model_id", "sha", *declared.names()], declared.name


class _Reading(dict):
    """A row that notes which of its fields are read."""

    def __init__(self, values: dict, read: set):
        super().__init__(values)
        self.read = read

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


SAMPLE = {
    "info": {"tags": ["text-generation"], "pipeline_tag": "text-generation", "library_name": "transformers",
             "card_status": "ok"},
    "findings": {"finding_id": "f1", "signal": "weights.release", "value": "full", "confidence": 0.9,
                 "evidence": [{"url": "u", "path": "README.md", "line_start": 1, "snippet": "x"}]},
    "repos": {"target": "github.com/o/r", "paper": "arxiv:1", "status": "resolved", "reason": None, "transient": False,
              "roles": ["inference"], "licence_ids": ["mit"], "host_licence": "MIT", "role_evidence": [],
              "licence_findings": [], "doc_findings": {}},
    "datasets": {"target": "o/d", "licence_ids": ["cc-by-4.0"]},
    "papers": {"target": "arxiv:1", "relevance": "own", "status": "resolved", "reason": None, "transient": False,
               "hub_page": "read", "github_repo": "o/r"},
}


def test_the_dossier_reads_every_declared_field_and_no_other():
    assert set(SAMPLE) == {declared.name for declared in INPUTS}
    read = {name: set() for name in SAMPLE}
    rows = {name: [_Reading(values, read[name])] for name, values in SAMPLE.items()}
    for declared in INPUTS:
        assert set(SAMPLE[declared.name]) == set(declared.names()), declared.name
    dossier_from_rows("o/m", "abc", rows, {})
    assert read == {declared.name: set(declared.names()) for declared in INPUTS}


# -- shapes and fingerprints, over rows given as tables of their own ----------------------------------

_TYPES = {TEXTS: "VARCHAR[]", FLAG: "BOOLEAN", NUMBER: "DOUBLE"}
_VALUES = {TEXTS: (["a", "b"], ["a", "c"]), FLAG: (False, True), NUMBER: (0.5, 0.75), JSON: ('{"a": 1}', '{"a": 2}')}


def _sha(model_id: str) -> str:
    return hashlib.sha1(model_id.encode()).hexdigest()


def _value(field, model_id: str, other: bool = False):
    if field.identity == MARKED:  # evidence naming the model and its commit, as a card's does
        return f'[{{"url": "https://hub.example/{model_id}/blob/{_sha(model_id)}/{"MODEL" if other else "README"}.md"}}]'
    if field.identity == FINDING_ID:
        return f"id-{model_id.replace('/', '-')}" if other else "id-0"
    return _VALUES.get(field.kind, ("v", "w"))[1 if other else 0]


def _sourced(declared):
    """The input with its rows from a table of its own (t_<name>)."""
    return dataclasses.replace(declared, rows=f"SELECT * FROM t_{declared.name} SEMI JOIN {{keys}} USING (model_id, sha)")


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """Models whose rows are alike but for one field each (`changed`: model id -> (input, field));
    the shape key, second key and fingerprints of each."""
    path = tmp_path_factory.mktemp("inputs") / "w.duckdb"
    models = {"o/base": None}
    for declared in EVERY:
        for field in declared.fields:
            models[f"o/{declared.name}-{field.name}"] = (declared.name, field.name)
    models["o/identity"] = ("identity", None)  # a model alike but for its identity
    models["o/lists"] = ("lists", None)        # the items of two lists moved from one to the other
    with connect(path) as con:
        for model_id in models:
            con.execute("INSERT INTO models (model_id, sha, complete, run_id) VALUES (?, ?, true, 'r')",
                        [model_id, _sha(model_id)])
        for declared in EVERY:
            columns = ", ".join(f"{f.name} {_TYPES.get(f.kind, 'VARCHAR')}" for f in declared.fields)
            con.execute(f"CREATE TABLE t_{declared.name} (model_id VARCHAR, sha VARCHAR, {columns})")
            for model_id, changed in models.items():
                values = [_value(f, model_id, other=changed == (declared.name, f.name) or (
                    changed is not None and changed[0] == "identity" and f.identity == FINDING_ID)) for f in declared.fields]
                if declared.name == "repos":  # roles [a], licence ids [b]; or their items moved: [a, b], []
                    moved = bool(changed) and changed[0] == "lists"
                    values = [(["a", "b"] if moved else ["a"]) if f.name == "roles" and changed != ("repos", "roles")
                              else ([] if moved else ["b"]) if f.name == "licence_ids" and changed != ("repos", "licence_ids")
                              else v for f, v in zip(declared.fields, values)]
                con.execute(f"INSERT INTO t_{declared.name} VALUES (?, ?, {', '.join('?' for _ in values)})",
                            [model_id, _sha(model_id), *values])
        sourced = tuple(_sourced(d) for d in EVERY)
        con.execute(fingerprints_sql(sourced))
        con.register("block_bases", pa.table({"model_id": [], "sha": [], "n": [], "base": [], "digest": [], "plain": []},
                                             schema=pa.schema([("model_id", pa.string()), ("sha", pa.string()),
                                                               ("n", pa.int32()), ("base", pa.string()),
                                                               ("digest", pa.binary()), ("plain", pa.bool_())])))
        with batch_keys(con, "wanted", [(m, _sha(m)) for m in models]):
            con.execute(shapes_sql(tuple(_sourced(d) for d in INPUTS)))
        shapes = {row[0]: row[1:] for row in con.execute("SELECT model_id, eligible, key, key2 FROM block_shapes").fetchall()}
        # evidence that names each model differs between any two: alike but where a model's differs
        con.execute("UPDATE t_findings SET evidence = '[]' WHERE model_id NOT IN ('o/identity', 'o/findings-evidence')")
        con.execute(fingerprints_sql(sourced))
        found = {m: shapes[m] + tuple(fps) for m, *fps in con.execute("SELECT model_id, inputs_fp, links_fp FROM input_fingerprints").fetchall()}
    return models, found


def test_a_shape_changes_with_every_declared_field_and_never_with_identity(variants):
    models, found = variants
    base = found["o/base"]
    assert all(found[m][0] for m in models)  # every one may be filled in
    for model_id, changed in models.items():
        if changed is None or changed[0] == BASE_LINKS.name:
            continue  # base links are the plan's: a shape holds its bases' cells instead
        field = None if changed[0] in ("identity", "lists") else next(
            f for d in INPUTS if d.name == changed[0] for f in d.fields if f.name == changed[1])
        same = changed[0] == "identity" or (field is not None and field.identity == FINDING_ID)
        assert (found[model_id][1] == base[1]) == same and (found[model_id][2] == base[2]) == same, (model_id, changed)


def test_a_fingerprint_changes_with_every_declared_field_and_a_finding_id(variants):
    models, found = variants
    base = found["o/base"]
    group = {d.name: d.group for d in EVERY} | {"identity": "inputs", "lists": "links"}
    for model_id, changed in models.items():
        if changed is not None:  # in the fingerprint of its group (its own inputs, or its links'), and no other
            inputs, links = found[model_id][3] != base[3], found[model_id][4] != base[4]
            assert (inputs, links) == (group[changed[0]] == "inputs", group[changed[0]] == "links"), (model_id, changed)


def test_duckdb_hashes_lists_without_their_boundaries_which_is_why_each_has_its_length_first():
    con = duckdb.connect()
    assert con.execute("SELECT hash(['a', 'b'], []::VARCHAR[]) = hash(['a'], ['b'])").fetchone()[0]
    assert not con.execute("SELECT hash(2, ['a', 'b'], 0, []::VARCHAR[]) = hash(1, ['a'], 1, ['b'])").fetchone()[0]
