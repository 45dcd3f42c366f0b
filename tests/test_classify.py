"""Classification over a crawled warehouse: every cell of every model has a level or a stated
reason, evidence a reader can follow to its source, and base models' cells reach their
derivatives; `openness classify` and `openness explain` on top."""
from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import copy_warehouse, is_verbatim, world_endpoints, world_flags
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.classification.scale.classify import NotClassified, classify_warehouse, explain
from openness.classification.taxonomy.rules import COMPONENT_KEYS


def crawled(warehouse, server):
    run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings={"WEB_DELAY": 0.0}, **world_endpoints(server)))
    return warehouse


@pytest.fixture(scope="module")
def real(tmp_path_factory, real_sample):
    from openness.emulator import serving
    path = str(tmp_path_factory.mktemp("real") / "openness.duckdb")
    with serving(real_sample) as server:
        crawled(path, server)
    classify_warehouse(path)
    return path


def test_every_cell_of_the_real_sample_has_a_value_and_a_followable_explanation(real):
    con = duckdb.connect(real, read_only=True)
    models = [m for (m,) in con.execute("SELECT model_id FROM latest_models ORDER BY 1").fetchall()]
    documents = {(m, p): t for m, p, t in con.execute("SELECT model_id, path, text FROM documents").fetchall()}
    assert len(models) == 6
    for model_id in models:
        explained = explain(real, model_id)
        assert list(explained["components"]) == list(COMPONENT_KEYS)
        for key, cell in explained["components"].items():
            assert cell["label"] and cell["reason"], (model_id, key)
            if cell["level"] is not None and cell["reason"] != "inherited":
                # a level comes with its evidence, or (not found) with the search that found nothing
                assert cell["evidence"] or (cell["reason"] == "not_found" and cell["search"]["card"] == "read"), \
                    (model_id, key)
            if cell["label"] == "Unknown" or cell["reason"] == "not_found":
                assert cell["search"] or cell["inherited_from"] or cell["reason"] in ("licence_unknown", "base_unknown"), \
                    (model_id, key)
            for evidence in cell["evidence"]:
                text = documents.get((model_id, evidence.get("path")))
                if evidence.get("line_start") and text is not None and evidence.get("url", "").endswith(evidence["path"]):
                    assert is_verbatim(evidence, text), (model_id, key, evidence)
    con.close()


@pytest.mark.parametrize("model_id", ["huihui-ai/gemma-3-12b-it-abliterated", "mlx-community/gemma-3-4b-it-4bit",
                                      "lmstudio-community/gemma-2-2b-it-GGUF"])
def test_gated_gemma_derivatives_carry_the_gemma_terms(real, model_id):
    weights = explain(real, model_id)["components"]["deployment.data.weights"]
    assert weights["label"] == "D4" and [l["id"] for l in weights["licenses"]] == ["gemma"]
    assert "gated (auto)" in weights["reason"]


def test_real_sample_code_repos_open_olmo_training_code(real):
    cells = explain(real, "allenai/OLMo-7B")["components"]
    assert cells["training.code.pretraining"]["label"] == "C5"
    assert any(e.get("path", "").startswith("scripts/") or "github.com/allenai/OLMo" in e.get("snippet", "")
               for e in cells["training.code.pretraining"]["evidence"])
    assert cells["deployment.data.weights"]["label"] == "D5"


def test_inherited_cells_come_from_the_base_in_the_warehouse(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    result = classify_warehouse(warehouse)
    assert result.models == 31 and sum(result.by_label.values()) == 31 * 12
    quant = explain(warehouse, "kestrel-ml/aurora-7b-GGUF")["components"]
    assert quant["training.code.pretraining"]["label"] == "C5"
    assert quant["training.code.pretraining"]["inherited_from"] == "aurora-labs/aurora-7b"
    merge = explain(warehouse, "parrotfish/aurora-slerp-7b")["components"]
    assert merge["training.data.pretraining"]["inherited_from"] == "aurora-labs/aurora-7b"  # equally open: first by name
    withheld = explain(warehouse, "nimbus-ai/nimbus-ultra")["components"]["deployment.data.weights"]
    assert (withheld["label"], withheld["reason"]) == ("D1", "stated_closed")
    # idempotent: a second run writes the same cells
    before = duckdb.connect(warehouse, read_only=True).execute(
        "SELECT model_id, component, label, reason, points FROM classifications ORDER BY ALL").fetchall()
    classify_warehouse(warehouse, ["kestrel-ml/aurora-7b-GGUF"])
    after = duckdb.connect(warehouse, read_only=True).execute(
        "SELECT model_id, component, label, reason, points FROM classifications ORDER BY ALL").fetchall()
    assert before == after


def test_classify_and_explain_commands(sample_crawled, warehouse, tmp_path):
    copy_warehouse(sample_crawled[0], warehouse)
    runner = CliRunner()
    missing = runner.invoke(cli, ["--warehouse", warehouse, "explain", "aurora-labs/aurora-7b"])
    assert missing.exit_code == 1 and "not classified yet" in missing.output
    done = runner.invoke(cli, ["--warehouse", warehouse, "classify"])
    assert done.exit_code == 0 and "31 models classified" in done.output, done.output
    text = runner.invoke(cli, ["--warehouse", warehouse, "explain", "aurora-labs/aurora-7b"])
    assert "training.code.pretraining    C5" in text.output and "summary:" in text.output
    shape = json.loads(runner.invoke(cli, ["--warehouse", warehouse, "explain", "--json", "aurora-labs/aurora-7b"]).output)
    assert set(shape) >= {"model_id", "sha", "components", "summary"}
    for cell in shape["components"].values():
        assert set(cell) >= {"level", "label", "licenses", "points", "confidence", "evidence"}
    nowhere = runner.invoke(cli, ["--warehouse", warehouse, "explain", "no/such-model"])
    assert nowhere.exit_code == 1 and "not in the warehouse" in nowhere.output
    with pytest.raises(NotClassified):
        explain(warehouse, "no/such-model")
    nothing = runner.invoke(cli, ["--warehouse", str(tmp_path / "none.duckdb"), "classify"])
    assert nothing.exit_code == 1 and "no warehouse at" in nothing.output and not (tmp_path / "none.duckdb").exists()


def test_audit_answers_for_one_model_and_its_ancestors(sample_world, emulator, warehouse):
    server = emulator(sample_world)
    flags = world_flags(server)
    runner = CliRunner()
    result = runner.invoke(cli, ["--warehouse", warehouse, "audit", "kestrel-ml/aurora-7b-GGUF", *flags])
    assert result.exit_code == 0, result.output
    assert "kestrel-ml/aurora-7b-GGUF @" in result.output
    assert "inherited from aurora-labs/aurora-7b" in result.output and "MOF" in result.output
    # the base model was crawled and classified on the way; a second audit reuses what is stored
    again = json.loads(runner.invoke(cli, ["--warehouse", warehouse, "audit", "--json", "kestrel-ml/aurora-7b-GGUF",
                                           *flags]).output)
    assert again["crawl"]["files_fetched"] == 0 and again["crawl"]["targets_followed"] == 0
    assert again["explanations"][0]["components"]["training.code.pretraining"]["label"] == "C5"
    missing = runner.invoke(cli, ["--warehouse", warehouse, "audit", "nobody/nothing", *flags])
    assert missing.exit_code == 1 and "nobody/nothing: could not be read from" in missing.output and "not_found" in missing.output


def test_audit_says_what_became_of_a_model_renamed_gone_or_unreachable(
        sample_world, emulator, warehouse):
    server = emulator(sample_world)
    runner = CliRunner()
    renamed = runner.invoke(cli, ["--warehouse", warehouse, "audit", "tinystack/tiny-gpt", *world_flags(server)])
    assert renamed.exit_code == 0, renamed.output
    assert "tinystack/tiny-gpt is now tinystack/tinygpt-v2: stored and explained as tinystack/tinygpt-v2" in renamed.output
    assert "tinystack/tinygpt-v2 @" in renamed.output and "not in the warehouse" not in renamed.output
    unreachable = runner.invoke(cli, ["--warehouse", warehouse, "audit", "aurora-labs/aurora-7b", "--hub-endpoint",
                                      "http://127.0.0.1:9", "--follow-depth", "0"])
    assert unreachable.exit_code == 1 and "could not connect to http://127.0.0.1:9" in unreachable.output
    assert "not in the warehouse" not in unreachable.output
    gone = runner.invoke(cli, ["--warehouse", warehouse, "audit", "basalt/never-existed", *world_flags(server)])
    assert gone.exit_code == 1
    assert f"basalt/never-existed: could not be read from {server.base_url}: not_found" in gone.output, gone.output


def test_a_chunk_of_cells_fills_one_duckdb_row_group_exactly():
    """CHUNK_MODELS is chosen so a chunk's cells are one row group: a transaction writes whole row
    groups straight to the file, and a part of one through the write-ahead log first (twice)."""
    from openness.classification.scale.classify import CHUNK_MODELS
    rows = CHUNK_MODELS * len(COMPONENT_KEYS)
    con = duckdb.connect()
    con.execute("CREATE TABLE cells (x INTEGER)")
    groups = []
    for count in (rows, 1):
        con.execute("INSERT INTO cells SELECT range FROM range(?)", [count])
        groups.append(con.sql("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('cells')").fetchall()[0][0])
    assert groups == [1, 2]  # exactly full: one row more starts the next


def test_a_block_is_cut_into_chunks_each_with_its_own_models_rows_in_their_order():
    """_split: each chunk gets its models' rows and items, and nothing else, in the block's order
    (sliced when the rows come in the keys' order, sorted stably when they do not)."""
    import pyarrow as pa
    from openness.classification.scale.chunk import ChunkInput
    from openness.classification.scale.classify import _split

    keys = [(f"o/m{i}", f"s{i}") for i in range(5)]
    in_order = pa.table({"model_id": ["o/m0", "o/m0", "o/m2", "o/m3", "o/m4"], "sha": ["s0", "s0", "s2", "s3", "s4"],
                         "n": [1, 2, 3, 4, 5]})
    shuffled = pa.table({"model_id": ["o/m4", "o/m1", "o/m0", "o/m4", "o/m1"], "n": [1, 2, 3, 4, 5]})
    repos = pa.table({"model_id": ["o/m0", "o/m3"], "n": [6, 7]})
    state = pa.table({"model_id": [m for m, _ in keys], "n": list(range(5))})
    block = ChunkInput(keys, "run", "v", rows={"info": shuffled, "findings": in_order, "repos": repos}, state=state,
                       bases={"o/m4": ["o/m0"]}, base_cells={"o/m0": {"cells": 1}},
                       redo={"o/m1": "full", "o/m4": "full"}, affected={"o/m2"}, needed_later={"o/m0"})
    chunks = list(_split(block, 2))
    assert [c.keys for c in chunks] == [keys[:2], keys[2:4], keys[4:]]
    assert [c.rows["findings"].column("n").to_pylist() for c in chunks] == [[1, 2], [3, 4], [5]]
    assert [c.rows["info"].column("n").to_pylist() for c in chunks] == [[2, 3, 5], [], [1, 4]]
    assert [c.rows["repos"].column("n").to_pylist() for c in chunks] == [[6], [7], []]
    assert [c.state.column("n").to_pylist() for c in chunks] == [[0, 1], [2, 3], [4]]
    assert [c.redo for c in chunks] == [{"o/m1": "full"}, {}, {"o/m4": "full"}]
    assert [(c.affected, c.needed_later) for c in chunks] == [(set(), {"o/m0"}), ({"o/m2"}, set()), (set(), set())]
    assert [(c.bases, c.base_cells) for c in chunks][2] == ({"o/m4": ["o/m0"]}, {"o/m0": {"cells": 1}})
    assert list(_split(block, 5)) == [block]  # a block of one chunk goes as it is
