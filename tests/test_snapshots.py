"""Run snapshots (`export --run`) and retention (`retain`): older runs are archived, checked, and
only then removed; nothing that was in the warehouse is lost."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import copy_warehouse, scalar, world_endpoints
from openness.emulator import serving
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.classification.scale.classify import classify_warehouse
from openness.outputs.snapshots import NoSuchSnapshot, export_run, retain
from openness.warehouse.errors import WarehouseError

CHANGING = "tinystack/tiny-bert-sentiment"


def nightly(warehouse, world, night: int) -> str:
    if night:
        card = world / "models" / CHANGING / "files" / "README.md"
        card.write_text(card.read_text("utf-8") + f"\nNight {night}: retrained.\n", "utf-8")
    with serving(world) as server:
        run = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=1, settings={"WEB_DELAY": 0.0},
                                    **world_endpoints(server)))
    classify_warehouse(warehouse)
    return run.run_id


@pytest.fixture(scope="module")
def three_nights_made(sample_world, tmp_path_factory) -> tuple[str, list[str]]:
    """Three nightly crawls of a world whose one model changes each night, made once."""
    folder = tmp_path_factory.mktemp("nights")
    world = folder / "world"
    shutil.copytree(sample_world, world)
    path = str(folder / "openness.duckdb")
    return path, [nightly(path, world, night) for night in range(3)]


@pytest.fixture
def three_nights(three_nights_made, warehouse) -> list[str]:
    """The three nights' warehouse, a copy each test may change."""
    copy_warehouse(three_nights_made[0], warehouse)
    return three_nights_made[1]


def commits(warehouse_or_folder) -> set[tuple[str, str]]:
    path = Path(warehouse_or_folder)
    if path.is_dir():
        return set(duckdb.sql(f"SELECT model_id, sha FROM read_parquet('{path}/models.parquet')").fetchall())
    with duckdb.connect(str(path), read_only=True) as con:
        return set(con.execute("SELECT model_id, sha FROM models").fetchall())


def test_a_run_snapshot_holds_what_that_run_saw(three_nights, warehouse, tmp_path):
    first, second, _ = three_nights
    result = export_run(warehouse, second, tmp_path / "snapshots")
    folder = Path(result.out_dir)
    assert folder.parent == tmp_path / "snapshots" and folder.name.endswith("_" + second) and folder.name[:4].isdigit()
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["run_id"] == second and manifest["files"]["model_stats.parquet"]["rows"] == scalar(
        warehouse, "SELECT count(*) FROM model_stats WHERE run_id = ?", [second])
    listed = set(duckdb.sql(f"SELECT model_id, sha FROM read_parquet('{folder}/model_stats.parquet')").fetchall())
    assert commits(folder) == listed  # each listed model at the commit that run saw, and only those
    shas = {sha for model, sha in commits(folder) if model == CHANGING}
    assert len(shas) == 1 and shas != {sha for model, sha in commits(export_run(warehouse, first, tmp_path / "s").out_dir)
                                       if model == CHANGING}
    cells = duckdb.sql(f"SELECT count(DISTINCT (model_id, sha)) FROM read_parquet('{folder}/classifications.parquet')").fetchall()
    assert cells[0][0] == len(listed)
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder}/link_targets.parquet')").fetchall()[0][0] > 0
    assert duckdb.sql(f"SELECT DISTINCT run_id FROM read_parquet('{folder}/crawl_runs.parquet')").fetchall() == [(second,)]


def test_retention_archives_older_runs_before_removing_them(three_nights, warehouse, tmp_path):
    first, second, third = three_nights
    before = commits(warehouse)
    nightly_export = Path(export_run(warehouse, second, tmp_path / "archive").out_dir)
    written_at = json.loads((nightly_export / "manifest.json").read_text("utf-8"))["created_at"]

    result = retain(warehouse, 1, tmp_path / "archive")
    assert result.kept == [third] and list(result.compacted) == [first, second]
    assert json.loads((nightly_export / "manifest.json").read_text("utf-8"))["created_at"] == written_at  # reused
    assert scalar(warehouse, "SELECT count(DISTINCT run_id) FROM model_stats") == 1
    # the changing model's two older commits left the warehouse, and are in the archives
    stored = {sha for model, sha in commits(warehouse) if model == CHANGING}
    assert len(stored) == 1 and result.rows_removed["models"] == 2
    archived = set().union(*(commits(folder) for folder in result.compacted.values()))
    assert before == commits(warehouse) | archived  # nothing lost
    assert scalar(warehouse, "SELECT count(*) FROM classifications c WHERE NOT EXISTS (SELECT 1 FROM models m "
                             "WHERE m.model_id = c.model_id AND m.sha = c.sha)") == 0
    runs = dict(duckdb.connect(warehouse, read_only=True).execute(
        "SELECT run_id, archive FROM crawl_runs WHERE compacted_at IS NOT NULL").fetchall())
    assert runs == result.compacted
    with pytest.raises(NoSuchSnapshot, match="compacted"):
        export_run(warehouse, first, tmp_path / "again")
    assert retain(warehouse, 1, tmp_path / "archive").compacted == {}  # nothing more to do
    classify_warehouse(warehouse)  # the warehouse still classifies after compaction


def test_retention_removes_nothing_when_the_archive_cannot_be_written(three_nights, warehouse, tmp_path):
    blocked = tmp_path / "archive-is-a-file"
    blocked.write_text("not a folder")
    before = scalar(warehouse, "SELECT count(*) FROM model_stats")
    with pytest.raises((WarehouseError, OSError)):
        retain(warehouse, 1, blocked)
    assert scalar(warehouse, "SELECT count(*) FROM model_stats") == before
    assert scalar(warehouse, "SELECT count(*) FROM crawl_runs WHERE compacted_at IS NOT NULL") == 0


def test_export_run_and_retain_commands(three_nights, warehouse, tmp_path):
    runner = CliRunner()
    exported = runner.invoke(cli, ["--warehouse", warehouse, "export", "--run", "latest", "--out", str(tmp_path / "s")])
    assert exported.exit_code == 0, exported.output
    assert "model_stats" in exported.output and three_nights[2] in exported.output
    unknown = runner.invoke(cli, ["--warehouse", warehouse, "export", "--run", "nope", "--out", str(tmp_path / "s")])
    assert unknown.exit_code == 1 and "no crawl run 'nope'" in unknown.output
    kept = runner.invoke(cli, ["--warehouse", warehouse, "retain", "--keep", "2", "--archive", str(tmp_path / "a")])
    assert kept.exit_code == 0 and "compacted 1" in kept.output and three_nights[0] in kept.output
