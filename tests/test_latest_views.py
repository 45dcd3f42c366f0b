"""The current state and the history (issue 32): the tables keep every commit a crawl stored, so
after a licence change a model has 24 cells; the latest_* views keep its newest commit's 12, the
help and the README name them first, and a snapshot holds both, its card saying which is which."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import REPO, copy_warehouse, rows, world_endpoints
from openness.classification.scale.classify import classify_warehouse
from openness.cli.main import cli
from openness.outputs.export import export_snapshot, snapshot_views
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.warehouse.db import TABLES, latest_views

MODEL = "tinystack/tiny-bert-sentiment"


@pytest.fixture(scope="module")
def relicensed(sample_crawled, sample_world, tmp_path_factory):
    """The sample world crawled and classified, then one model's licence changed, crawled and
    classified again: that model has two commits in every per-commit table."""
    from openness.emulator import serving
    root = tmp_path_factory.mktemp("relicensed")
    warehouse = copy_warehouse(sample_crawled[0], str(root / "openness.duckdb"))
    classify_warehouse(warehouse)
    world = root / "world"
    shutil.copytree(sample_world, world)
    folder = world / "models" / MODEL
    card = folder / "files" / "README.md"
    card.write_text(card.read_text("utf-8").replace("license: mit", "license: cc-by-nc-4.0"), "utf-8")
    info = json.loads((folder / "info.json").read_text("utf-8"))
    info["cardData"]["license"] = "cc-by-nc-4.0"
    info["tags"] = [t.replace("license:mit", "license:cc-by-nc-4.0") for t in info.get("tags", [])]
    (folder / "info.json").write_text(json.dumps(info), "utf-8")
    with serving(world) as server:
        run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings={"WEB_DELAY": 0.0},
                              **world_endpoints(server)))
    classify_warehouse(warehouse)
    return warehouse


def test_the_history_holds_both_commits_and_the_latest_views_the_newest(relicensed):
    (newest,) = rows(relicensed, "SELECT sha FROM latest_models WHERE model_id = ?", [MODEL])[0]
    assert rows(relicensed, "SELECT count(*), count(DISTINCT sha) FROM classifications WHERE model_id = ?",
                [MODEL]) == [(24, 2)]
    assert rows(relicensed, "SELECT count(*), min(sha) FROM latest_classifications WHERE model_id = ?",
                [MODEL]) == [(12, newest)]
    assert rows(relicensed, "SELECT label FROM latest_classifications WHERE model_id = ? "
                            "AND component = 'deployment.data.weights'", [MODEL]) == [("D4",)]
    for view, table in (("latest_summaries", "model_summaries"), ("latest_findings", "findings"),
                        ("latest_links", "links"), ("latest_repo_files", "repo_files"),
                        ("latest_documents", "documents")):
        shas = rows(relicensed, f"SELECT DISTINCT sha FROM {view} WHERE model_id = ?", [MODEL])
        assert shas in ([(newest,)], []), view
        assert len(rows(relicensed, f"SELECT DISTINCT sha FROM {table} WHERE model_id = ?", [MODEL])) >= len(shas)
    # every model: as many summaries and twelve times as many cells as latest_models has models
    models = rows(relicensed, "SELECT count(*) FROM latest_models")[0][0]
    assert rows(relicensed, "SELECT count(*) FROM latest_summaries")[0][0] == models
    assert rows(relicensed, "SELECT count(*) FROM latest_classifications")[0][0] == 12 * models
    assert rows(relicensed, "SELECT count(*) FROM classifications")[0][0] == 12 * (models + 1)


def test_the_latest_datasets_and_repos_are_the_rows_classification_reads(relicensed):
    for view, table, key in (("latest_datasets", "datasets", "dataset_id"), ("latest_code_repos", "code_repos", "repo")):
        assert rows(relicensed, f"SELECT count(*) FROM {view}") == rows(relicensed, f"SELECT count(DISTINCT {key}) FROM {table}")


def test_query_help_names_the_current_state_first(relicensed):
    text = CliRunner().invoke(cli, ["query", "--help"]).output
    assert text.index("latest_classifications") < text.index("Tables")
    assert all(view in text for view in latest_views())
    answer = CliRunner().invoke(cli, ["--warehouse", relicensed, "query", "--csv",
                                      f"SELECT count(*) FROM latest_classifications WHERE model_id = '{MODEL}'"])
    assert answer.exit_code == 0 and answer.output.splitlines()[1] == "12"


def test_the_readme_shows_the_latest_views_in_its_examples():
    readme = (REPO / "README.md").read_text("utf-8")
    examples = [line for line in readme.splitlines() if line.startswith("openness query")]
    assert examples and all("FROM latest_" in line for line in examples)


def test_a_snapshot_holds_the_current_state_beside_the_history_in_the_same_bytes_every_time(relicensed, tmp_path):
    first = export_snapshot(relicensed, tmp_path / "a", created_at="2026-01-01T00:00:00Z")
    export_snapshot(relicensed, tmp_path / "b", created_at="2026-01-01T00:00:00Z")
    assert set(first.tables) == set(TABLES) | set(snapshot_views())
    assert "latest_classifications" in first.tables and "latest_documents" not in first.tables
    for view in snapshot_views():
        assert first.tables[view] == rows(relicensed, f"SELECT count(*) FROM {view}")[0][0]
    assert first.tables["classifications"] == first.tables["latest_classifications"] + 12
    manifests = [json.loads((tmp_path / name / "manifest.json").read_text("utf-8"))["files"] for name in "ab"]
    assert manifests[0] == manifests[1]  # an unchanged warehouse exports the same bytes


def test_licences_join_the_current_cells(relicensed):
    """"Weights under an OSI-approved licence, training data not released" is one join; the model
    whose licence changed to a non-commercial one left the answer with its new commit."""
    from openness.extractors.knowledge import knowledge
    assert rows(relicensed, "SELECT count(*) FROM licences")[0][0] == len(knowledge())
    assert rows(relicensed, "SELECT osi_approved, fsf_libre, points FROM licences WHERE licence_id = 'apache-2.0'") \
        == [(True, True, 5)]
    answer = {r[0] for r in rows(relicensed, """
        SELECT model_id FROM latest_cell_licences JOIN licences USING (licence_id)
        WHERE component = 'deployment.data.weights' AND deciding AND osi_approved
          AND model_id IN (SELECT model_id FROM latest_classifications
                           WHERE component = 'training.data.pretraining' AND level = 1)""")}
    assert answer and MODEL not in answer
    assert rows(relicensed, "SELECT licence_id FROM latest_cell_licences WHERE model_id = ? "
                            "AND component = 'deployment.data.weights' AND deciding", [MODEL]) == [("cc-by-nc-4.0",)]
