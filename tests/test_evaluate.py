"""`openness evaluate`: agreement with hand classifications. The scoring is a pure function (tested
on cells made up here); the calibration set is crawled from the two worlds served together,
classified and scored end to end, and must stay at >= 95% exact with no false "open"."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import REPO
from openness.classification.taxonomy.evaluate import Classified, GoldCell, GoldError, read_gold, score

CALIBRATION = REPO.parent / "shared" / "world" / "calibration"
GOLD = REPO.parent / "shared" / "gold" / "calibration.csv"


def gold(model, component, level):
    return GoldCell(model, component, level, 2)


def test_score_counts_exact_near_false_open_and_missing():
    cells = [gold("a/x", "deployment.data.weights", 5), gold("a/x", "training.data.pretraining", 1),
             gold("a/x", "training.code.pretraining", 3), gold("a/y", "deployment.data.weights", 4),
             gold("a/x", "evaluation.code.general", 1)]
    classified = {("a/x", "deployment.data.weights"): Classified(5, "D5", "licence"),
                  ("a/x", "training.data.pretraining"): Classified(5, "D5", "licence", [{"id": "mit", "points": 5}]),
                  ("a/x", "training.code.pretraining"): Classified(4, "C4", "licence"),
                  ("a/x", "evaluation.code.general"): Classified(None, "Unknown", "link_unresolved")}
    result = score(cells, classified)
    assert (result.cells, result.exact, result.within_one, result.false_open, result.missing) == (5, 1, 2, 1, 1)
    assert result.by_component["training.data.pretraining"] == {"cells": 1, "exact": 0, "within_one": 0, "false_open": 1}
    assert result.confusion == {"1": {"5": 1, "Unknown": 1}, "3": {"4": 1}, "4": {"missing": 1}, "5": {"5": 1}}
    first = result.disagreements[0]  # the worst error comes first
    assert (first["component"], first["false_open"], first["licences"][0]["id"]) == ("training.data.pretraining", True, "mit")
    assert {d["label"] for d in result.disagreements} == {"D5", "C4", "Unknown", "missing"}


def test_read_gold_takes_extra_columns_and_refuses_bad_rows(tmp_path):
    good = tmp_path / "gold.csv"
    good.write_text("model_id,component,level,licence,source\na/x,deployment.data.weights,4,CC-BY-NC,hand\n", "utf-8")
    [cell] = read_gold(good)
    assert (cell.model_id, cell.level, cell.note) == ("a/x", 4, "licence: CC-BY-NC; source: hand")
    for body, message in (("model,component,level\n", "no column model_id"),
                          ("model_id,component,level\na/x,weights,4\n", "unknown component"),
                          ("model_id,component,level\na/x,deployment.data.weights,6\n", "level must be 1-5"),
                          ("model_id,component,level\na/x,deployment.data.weights,5\na/x,deployment.data.weights,4\n",
                           "appears twice"),
                          ("model_id,component,level\n", "no gold cells")):
        bad = tmp_path / "bad.csv"
        bad.write_text(body, "utf-8")
        with pytest.raises(GoldError, match=message):
            read_gold(bad)


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["--warehouse", str(tmp_path / "none.duckdb"), "evaluate", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "cannot read" in result.output and "Traceback" not in result.output
    gold_file = tmp_path / "gold.csv"
    gold_file.write_text("model_id,component,level\na/x,deployment.data.weights,5\n", "utf-8")
    result = runner.invoke(cli, ["--warehouse", str(tmp_path / "none.duckdb"), "evaluate", str(gold_file)])
    assert result.exit_code == 1 and "no warehouse" in result.output


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory, real_sample):
    """The calibration world and the real sample served together, crawled and classified: the
    agreement benchmark (benchmarks/agreement.py) at its one size."""
    if not CALIBRATION.is_dir() or not GOLD.is_file():
        pytest.skip("the calibration world and gold set are not beside the project")
    from benchmarks.agreement import measure
    path = str(tmp_path_factory.mktemp("calibration") / "openness.duckdb")
    _, run = measure([str(real_sample), str(CALIBRATION)], str(GOLD), path)
    assert run["crawl_status"] == "complete" and run["models"] >= 11
    return path


def test_calibration_agreement(calibrated):
    """The figures benchmarks/README.md records: at least 95% of the hand-classified cells exact,
    and never "open" (4-5) where the hand table says 1-2."""
    result = CliRunner().invoke(cli, ["--warehouse", calibrated, "evaluate", str(GOLD), "--json"])
    assert result.exit_code == 0, result.output
    agreement = json.loads(result.output)
    assert agreement["cells"] == len(read_gold(GOLD))
    assert agreement["false_open"] == 0, agreement["disagreements"]
    assert agreement["exact"] >= 0.95 * agreement["cells"], agreement["disagreements"]
    assert agreement["missing"] == 0


def test_evaluate_text_output(calibrated):
    result = CliRunner().invoke(cli, ["--warehouse", calibrated, "evaluate", str(GOLD)])
    assert result.exit_code == 0
    assert "gold cells: exact" in result.output and "by component:" in result.output and "confusion" in result.output


def test_a_model_asked_for_by_its_old_id_is_scored_under_its_new_one(sample_world, emulator, tmp_path):
    """Gold names a model by the id it had; crawled by that id, it answered under its new one (the
    Hub redirects): its cells are scored, not counted missing."""
    from conftest import world_endpoints
    from openness.classification.scale.classify import classify_warehouse
    from openness.classification.taxonomy.evaluate import evaluate_warehouse
    from openness.pipeline.runner import CrawlConfig, run_crawl
    warehouse = str(tmp_path / "openness.duckdb")
    run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, model_ids=["tinystack/tiny-gpt"], follow_depth=0,
                          **world_endpoints(emulator(sample_world))))
    classify_warehouse(warehouse)
    gold_file = tmp_path / "gold.csv"
    gold_file.write_text("model_id,component,level\ntinystack/tiny-gpt,deployment.data.weights,5\n", "utf-8")
    result = evaluate_warehouse(warehouse, gold_file)
    assert result.missing == 0 and result.cells == 1
