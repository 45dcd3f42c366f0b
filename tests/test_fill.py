"""The warehouse fills models in from their shapes' templates (classification/scale/fill.py) with the
same bytes as Python does (shapes.Template.fill): the rows, and the fingerprint of their printed
text, over identities inside texts, braces, quotes, text that merely looks like a marker, non-ASCII
text and finding ids inside lists; and a template it cannot fill goes the Python way. The whole
path against the Python way, over a warehouse and incrementally: tests/test_shapes.py."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from openness.classification.scale import fill
from openness.classification.scale.chunk import _digest
from openness.classification.scale.shapes import COMMIT, MODEL, Template, finding_marker
from openness.warehouse.db import connect

SHA = "0123456789abcdef0123456789abcdef01234567"
MODEL_JSON, COMMIT_JSON = "\\u0000M\\u0001", "\\u0000S\\u0001"


def _row(component: str, finding_ids: list, evidence: str, reason: str = "licence", search=None) -> tuple:
    """A marked cell row (chunk.CELL_COLUMNS' order)."""
    return (MODEL, COMMIT, component, 5, "D5", reason, '[{"id": "mit", "points": 5}]', 5, 0.9, finding_ids, evidence,
            None, search, 7)


def _evidence(snippet: str) -> str:
    return json.dumps([{"url": f"https://hub.example/{MODEL_JSON}/resolve/{COMMIT_JSON}/README.md",
                        "snippet": snippet}]).replace("\\\\u0000", "\\u0000").replace("\\\\u0001", "\\u0001")


TEMPLATE_ROWS = [
    _row("weights", [finding_marker(0), finding_marker(1)], _evidence("{0} {{1}} 'quoted' \"both\" é ☃")),
    _row("code", ["a-base-finding", finding_marker(1)], _evidence("bytes \\x00 and \\u0001 as text")),
    _row("data", [], "[]", reason="not_found", search='{"card": true}'),
]
SUMMARY = {"fully_open": 1, "semi_open": 0, "closed": 2, "unknown": 0, "not_applicable": 0, "mof_class": None,
           "mof_missing": ["data"], "osaid": "no", "osaid_missing": ["data"], "closed_not_found": 1, "closed_stated": 0}


def test_a_template_for_the_warehouse_keeps_finding_markers_only_where_it_puts_them_back():
    template = Template.of(TEMPLATE_ROWS, SUMMARY, ["D5", "D5", "D1"])
    cells, printed, summary = fill.for_warehouse(template)
    assert [c["slots"] for c in cells] == [[0, 1], [-1, 1], []] and cells[1]["finding_ids"] == ["a-base-finding", ""]
    assert all(fill.MARK_M in c["evidence"] and "\\u0000" not in c["evidence"] for c in cells[:2])  # one spelling
    assert [c["marked"] for c in cells] == [True, True, False] and summary == SUMMARY
    assert printed["slots"] == [0, 1, 1] and "{" in printed["head"]  # braces as the rows print them

    inside_a_text = Template.of([_row("weights", [], _evidence("see " + finding_marker(0)))], SUMMARY, ["D5"])
    assert fill.for_warehouse(inside_a_text) is None  # the warehouse puts finding ids back into lists only
    in_a_list_item = Template.of([_row("weights", ["x" + finding_marker(0)], "[]")], SUMMARY, ["D5"])
    assert fill.for_warehouse(in_a_list_item) is None


def test_the_printed_rows_come_back_whole_from_their_pieces():
    fmt = "a{{b}}{0}c{2}d{1}{3}e{{"
    pieces = fill._printed(fmt)
    text = pieces["head"] + "".join(["F0", "F1"][n] + rest for n, rest in zip(pieces["slots"], pieces["rest"]))
    assert text.replace(fill.MARK_M, "M").replace(fill.MARK_S, "S") == fmt.format("M", "S", "F0", "F1")


@pytest.fixture
def warehouse(tmp_path):
    with connect(str(tmp_path / "w.duckdb")) as con:
        yield con


def test_the_warehouse_fills_in_the_same_rows_and_fingerprint_as_python(warehouse):
    con = warehouse
    template = Template.of(TEMPLATE_ROWS, SUMMARY, ["D5", "D5", "D1"])
    models = [("labs/alpha-7b", SHA, ["f-one", "f-two"]), ("other/beta", SHA[::-1], ["g.1", "g:2"])]
    fill.create_template_tables(con)
    templates = fill.Templates()
    shape, _ = templates.number(("key",))
    templates.keep(con, {shape: template})
    con.register("shapes_in", pa.table({"model_id": [m for m, _, _ in models], "sha": [s for _, s, _ in models],
                                         "fids": [f for _, _, f in models]}))
    con.execute("CREATE TEMP TABLE block_shapes AS SELECT *, 1::UBIGINT AS inputs_fp, 2::UBIGINT AS links_fp, "
                "false AS stored, NULL::VARCHAR AS stored_fp FROM shapes_in")
    filled = fill.write_block(con, {"model_id": [m for m, _, _ in models], "sha": [s for _, s, _ in models],
                                    "shape": [shape] * 2, "family": ["labs/alpha", "other/beta"],
                                    "reason": ["full run"] * 2, "redo": [True, True]},
                              {"run_id": "r", "rules_version": 7, "classifier_version": "v"}, templates.labels)
    assert filled.models == 2 and filled.by_label == {"D5": 4, "D1": 2} and filled.redone == {"full run": 2}
    for model_id, sha, fids in models:
        rows, printed = template.fill(model_id, sha, fids)
        stored = con.execute("SELECT model_id, sha, component, level, label, reason, licences, points, confidence, "
                             "finding_ids, evidence, inherited_from, search, rules_version FROM classifications "
                             "WHERE model_id = ? ORDER BY component DESC", [model_id]).fetchall()
        assert stored == sorted(rows, key=lambda row: row[2], reverse=True)
        fingerprint = con.execute("SELECT cells_fp FROM model_summaries WHERE model_id = ?", [model_id]).fetchall()
        assert fingerprint == [(_digest(printed),)]


def test_a_model_built_on_a_changed_base_is_written_only_when_its_own_cells_changed(warehouse):
    con = warehouse
    template = Template.of(TEMPLATE_ROWS, SUMMARY, ["D5", "D5", "D1"])
    fill.create_template_tables(con)
    templates = fill.Templates()
    templates.keep(con, {0: template})
    same = _digest(template.fill("a/same", SHA, ["f", "g"])[1])
    con.execute("CREATE TEMP TABLE block_shapes AS SELECT * FROM (VALUES ('a/same', ?, ['f', 'g'], 1::UBIGINT, 2::UBIGINT, "
                "true, ?), ('a/other', ?, ['f', 'g'], 1::UBIGINT, 2::UBIGINT, true, 'not this')) "
                "t(model_id, sha, fids, inputs_fp, links_fp, stored, stored_fp)", [SHA, same, SHA])
    filled = fill.write_block(con, {"model_id": ["a/same", "a/other"], "sha": [SHA, SHA], "shape": [0, 0],
                                    "family": ["a/same", "a/other"], "reason": ["base model's cells changed"] * 2,
                                    "redo": [False, False]},
                              {"run_id": "r", "rules_version": 7, "classifier_version": "v"}, templates.labels)
    assert filled.models == 1 and con.execute("SELECT DISTINCT model_id FROM classifications").fetchall() == [("a/other",)]


def test_a_template_the_warehouse_cannot_fill_sends_its_shape_the_python_way(warehouse):
    fill.create_template_tables(warehouse)
    templates = fill.Templates()
    inside_a_text = Template.of([_row("weights", [], _evidence("see " + finding_marker(0)))], SUMMARY, ["D5"])
    templates.keep(warehouse, {0: inside_a_text, 1: None})  # None: the model had no shape after all
    assert templates.python_only == {0, 1}
    assert warehouse.execute("SELECT count(*) FROM tpl_cells").fetchall() == [(0,)]
