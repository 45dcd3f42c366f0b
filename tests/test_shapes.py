"""Classifying by shape (classification/scale/shapes.py) gives the same bytes as classifying each model
on its own: over a synthetic warehouse where most models share a shape, with models made to look
alike but for what the engine does read (stage words in the id, a link to a repo named like the
model), identities inside snippets, braces, a finding id two models share, a control character
and ids that cannot be marked."""
from __future__ import annotations

import json

import duckdb
import pytest

from benchmarks.classify import build
from openness.classification.scale import chunk as chunk_module
from openness.classification.scale.classify import classify_warehouse
from openness.classification.scale.shapes import COMMIT, MODEL, ShapeMemo, Template, finding_marker, shape_of
from openness.warehouse.db import connect

SHA = "0123456789abcdef0123456789abcdef01234567"
TWINS = ["labs/alpha-7b", "labs/alpha-7b-instruct", "labs/alpha-7b-dpo", "gpt2", "labs/alpha-7b-chat",
         "labs/model-7", "labs/model-70"]


def _evidence(model_id: str, sha: str, snippet: str) -> str:
    return json.dumps([{"url": f"https://hub.example/{model_id}/resolve/{sha}/README.md", "path": "README.md",
                        "line_start": 3, "line_end": 3, "snippet": snippet}])


def _add_twins(con) -> None:
    """Models alike but for their ids, some of whose words the engine reads; each names itself,
    its commit and braces in a snippet; one links a GitHub repo named like itself."""
    for n, model_id in enumerate(TWINS):
        sha = f"{n:02d}" + SHA[2:] if model_id != "labs/model-70" else "not-a-commit"
        con.execute("INSERT INTO models BY NAME SELECT ? AS model_id, ? AS sha, 'labs' AS author, 'none' AS gated, "
                    "false AS private, false AS disabled, 1 AS downloads, 0 AS likes, ['transformers'] AS tags, "
                    "'text-generation' AS pipeline_tag, 'transformers' AS library_name, 'mit' AS license, "
                    "'ok' AS card_status, true AS complete, 'bench' AS run_id", [model_id, sha])
        findings = {
            "licence.declared": '[{"id": "mit", "points": 5}]',
            "weights.release": '"full"',
            "weights.base_model": '{"ids": ["org-0/model-0"], "relation": "finetune"}',
            "code.link": json.dumps({"host": "github.com", "repo": model_id if n % 2 else "code/repo-1",
                                     "roles": ["training"]}),
        }
        for signal, value in findings.items():
            snippet = f"{model_id} at {sha}: {{0}} {{{{1}}}} {signal}"
            con.execute("INSERT INTO findings BY NAME SELECT ? AS finding_id, ? AS model_id, ? AS sha, ? AS signal, "
                        "? AS value, 0.9 AS confidence, 'test' AS extractor, '1' AS extractor_version, ? AS evidence, "
                        "'bench' AS run_id", [f"{n}{signal}".encode().hex(), model_id, sha, signal, value,
                                              _evidence(model_id, sha, snippet)])


def _add_oddities(con) -> None:
    """One finding id in two models, a snippet with a control character (as JSON writes it), and a
    finding id that is not plain text, each on models that otherwise share a common shape."""
    con.execute("UPDATE findings SET finding_id = 'same-id' WHERE model_id IN ('org-3/model-3', 'org-13/model-13') "
                "AND signal = 'weights.release'")
    con.execute("UPDATE findings SET evidence = replace(evidence, 'license: x', 'license:\\u0000x') "
                "WHERE model_id = 'org-4/model-4'")
    con.execute("UPDATE findings SET finding_id = 'an id' WHERE model_id = 'org-6/model-6' AND signal = 'weights.release'")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("shapes") / "w.duckdb")
    build(path, 1500)
    with connect(path) as con:
        _add_twins(con)
        _add_oddities(con)
    return path


def _written(path: str) -> tuple[list, list]:
    con = duckdb.connect(path, read_only=True)
    cells = con.execute("SELECT * EXCLUDE (run_id) FROM classifications ORDER BY model_id, sha, component").fetchall()
    summaries = con.execute("SELECT * EXCLUDE (run_id) FROM model_summaries ORDER BY model_id, sha").fetchall()
    con.close()
    return cells, summaries


def test_shapes_give_the_same_bytes_as_each_model_on_its_own(warehouse, tmp_path, monkeypatch):
    """Three ways over one warehouse: the warehouse filling models in from their shapes' templates
    (fill.py, the default), the workers filling them in (the warehouse's part off), and every
    model classified on its own."""
    from openness.classification.scale import classify as classify_module
    from openness.classification.scale import fill

    paths = [str(tmp_path / f"{way}.duckdb") for way in ("warehouse", "shape", "own")]
    for path in paths:
        with open(warehouse, "rb") as source, open(path, "wb") as copy:
            copy.write(source.read())
    memo = ShapeMemo(limit=64)  # small: shapes are dropped and made again on the way
    monkeypatch.setattr(chunk_module, "_SHAPES", memo)
    made, filled = [], []
    real_of, real_write = Template.of, fill.write_block
    monkeypatch.setattr(Template, "of", classmethod(lambda cls, *a: made.append(1) or real_of(*a)))

    def write_block(*args):
        result = real_write(*args)
        filled.append(result.models)
        return result
    monkeypatch.setattr(fill, "write_block", write_block)
    classify_warehouse(paths[0], workers=1, batch_size=400)
    models = duckdb.connect(paths[0], read_only=True).execute("SELECT count(*) FROM model_summaries").fetchall()[0][0]
    assert 0 < len(made) < models and sum(filled) > 0.9 * models  # most written by the warehouse, shapes shared

    monkeypatch.setattr(classify_module, "_by_the_warehouse", lambda con, keys, *rest: iter([(keys, fill.Filled())]))
    made.clear()
    classify_warehouse(paths[1], workers=1, batch_size=400)
    assert 0 < len(made) < models * 0.6  # most models were filled in from a shape made before
    monkeypatch.setattr(chunk_module, "_base_prints", lambda chunk, bases: None)  # every model on its own
    classify_warehouse(paths[2], workers=1, batch_size=400)
    by_warehouse, shaped, own = (_written(path) for path in paths)
    assert len(own[0]) == 12 * models and by_warehouse == shaped == own

    # what a twin's id says shows: a -dpo model had an alignment stage of its own, its twin not
    reasons = dict(duckdb.connect(paths[0], read_only=True).execute(
        "SELECT model_id, reason FROM classifications WHERE component = 'training.code.alignment'").fetchall())
    assert reasons["labs/alpha-7b-dpo"] == "link_unresolved" and reasons["labs/alpha-7b"] == "base_unknown"


def test_a_chunk_with_a_control_character_is_classified_model_by_model(warehouse):
    con = duckdb.connect(warehouse, read_only=True)
    (evidence,) = con.execute("SELECT evidence FROM findings WHERE model_id = 'org-4/model-4' LIMIT 1").fetchall()[0]
    con.close()
    assert "\\u0000" in evidence  # the fixture's control character, as JSON writes it
    table = chunk_module.pa.table({"model_id": ["org-4/model-4"], "evidence": [evidence]})
    assert chunk_module._texts_hold_control(table)
    assert not chunk_module._texts_hold_control(chunk_module.pa.table({"evidence": ["[]", None]}))
    both = chunk_module.pa.table({"evidence": ["[]", evidence]})  # a chunk cut from a block: its own rows only
    assert not chunk_module._texts_hold_control(both.slice(0, 1)) and chunk_module._texts_hold_control(both.slice(1, 1))


def test_identities_that_cannot_be_marked_have_no_shape():
    row = {"findings": [("f1", "weights.release", '"full"', 1.0, _evidence("a/b", SHA, "x"))]}
    assert shape_of("a/b", SHA, frozenset(), row, ()) is not None
    assert shape_of("gpt2", SHA, frozenset(), row, ()) is None                     # no owner: could be any word
    assert shape_of('a/b"c', SHA, frozenset(), row, ()) is None                    # JSON would escape it
    assert shape_of("a/b", "main", frozenset(), row, ()) is None                   # not a commit
    assert shape_of("a/b", "1234567890123456789", frozenset(), row, ()) is None    # all digits: could be a number
    spaced = {"findings": [("f 1", *row["findings"][0][1:])]}
    assert shape_of("a/b", SHA, frozenset(), spaced, ()) is None                   # a finding id with a space


def test_a_shape_holds_no_identity_and_filling_it_in_gives_the_rows_and_their_repr():
    own = _evidence("a/b", SHA, "a/b at " + SHA)
    other = _evidence("c/d", SHA[::-1], "c/d at " + SHA[::-1])
    first = shape_of("a/b", SHA, frozenset(), {"findings": [("f1", "weights.release", '"full"', 1.0, own)]}, ())
    second = shape_of("c/d", SHA[::-1], frozenset(), {"findings": [("g2", "weights.release", '"full"', 1.0, other)]}, ())
    assert first.key == second.key and "a/b" not in repr(first.key) and SHA not in repr(first.key)
    marked = [(MODEL, COMMIT, "x", [finding_marker(0)], "{0} '" + first.rows["findings"][0][4] + "'", None, 1.5)]
    template = Template.of(marked, {}, [])
    rows, printed = template.fill("c/d", SHA[::-1], ["g2"])
    assert rows == [("c/d", SHA[::-1], "x", ["g2"], "{0} '" + other + "'", None, 1.5)]
    assert printed == "".join(map(repr, rows))

    # a text that reads like a marker's repr (a snippet of C holding "\\x00") is no marker
    looks_marked = [(MODEL, COMMIT, "x", [], "bytes \\x00\\x00 and {0}", ["\\x00"]),
                    (MODEL, COMMIT, "y", [finding_marker(0)], "at " + MODEL, [])]
    rows, printed = Template.of(looks_marked, {}, []).fill("c/d", SHA, ["g2"])
    assert rows == [("c/d", SHA, "x", [], "bytes \\x00\\x00 and {0}", ["\\x00"]), ("c/d", SHA, "y", ["g2"], "at c/d", [])]
    assert printed == "".join(map(repr, rows))
    with pytest.raises(ValueError):
        Template.of([("x", COMMIT)], {}, [])  # every row starts with the marked identity


def test_the_memo_keeps_the_shapes_used_last_and_forgets_them_when_the_rules_change():
    class Rules:
        version = 1
    memo, rules = ShapeMemo(limit=2), Rules()
    memo.scoped(rules, "v1")
    for key in ("a", "b"):
        memo.keep(key, key)
    assert memo.get("a") == "a"  # used last now: "b" goes first
    memo.keep("c", "c")
    assert list(memo.templates) == ["a", "c"]
    assert memo.scoped(rules, "v1").templates and not memo.scoped(rules, "v2").templates


def test_a_bases_cells_travel_encoded_and_are_decoded_once_a_process():
    """A base's cells go to each chunk of its derivatives as bytes, made once by the process that
    classified it; each process decodes them once, and says whether their texts hold a control
    character (then its derivatives are classified one by one)."""
    from openness.classification.taxonomy.engine import Cell
    plain = {"weights": Cell("weights", 5, "D5", "licence", licences=[{"id": "mit", "points": 5}], finding_ids=["f1"])}
    marked = {"weights": Cell("weights", 5, "D5", "licence", evidence=[{"snippet": "a\x01b"}])}
    blob = chunk_module.encode_cells(plain)
    cells, control, digest = chunk_module.decoded(blob)
    assert cells == plain and not control and chunk_module.decoded(bytes(bytearray(blob)))[0] is cells  # once
    assert chunk_module.decoded(chunk_module.encode_cells(marked))[1]
    assert digest != chunk_module.decoded(chunk_module.encode_cells(marked))[2]


def test_an_incremental_run_by_the_warehouse_gives_the_python_ways_bytes(warehouse, tmp_path, monkeypatch):
    """After a base's findings change (its derivatives' inherited cells with them) and a followed
    repo changes, the incremental run, with most models written by the warehouse, leaves the same
    rows as the same run the Python way."""
    from openness.classification.scale import classify as classify_module
    from openness.classification.scale import fill

    first = str(tmp_path / "first.duckdb")
    with open(warehouse, "rb") as source, open(first, "wb") as copy:
        copy.write(source.read())
    classify_warehouse(first, workers=1, batch_size=400)
    with connect(first) as con:
        con.execute("DELETE FROM findings WHERE model_id = 'org-0/model-500' AND signal = 'licence.declared'")
        con.execute("UPDATE code_repos SET licence_ids = ['gpl-3.0'] WHERE repo = 'github.com/code/repo-2'")
    paths = [str(tmp_path / f"{way}.duckdb") for way in ("warehouse", "python")]
    for path in paths:
        with open(first, "rb") as source, open(path, "wb") as copy:
            copy.write(source.read())
    by_warehouse = classify_warehouse(paths[0], workers=1, batch_size=400)
    monkeypatch.setattr(classify_module, "_by_the_warehouse", lambda con, keys, *rest: iter([(keys, fill.Filled())]))
    by_python = classify_warehouse(paths[1], workers=1, batch_size=400)
    assert by_warehouse.redone == by_python.redone and by_warehouse.by_label == by_python.by_label
    assert by_warehouse.redone.get("base model's cells changed", 0) > 0 and by_warehouse.redone.get("linked targets changed", 0) > 0
    assert _written(paths[0]) == _written(paths[1])
