"""`openness diff`: a nightly sequence (crawl, classify, change three repos in the world, crawl,
classify, diff) shows exactly those three changes, each with what it was and what it became."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import copy_warehouse, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.classification.scale.classify import classify_warehouse
from openness.outputs.diff import NoSuchRun, diff_runs


def nightly(warehouse, server):
    result = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings={"WEB_DELAY": 0.0},
                                   **world_endpoints(server)))
    classify_warehouse(warehouse)
    return result.run_id


def first_night(sample_crawled, warehouse) -> str:
    """The sample world's first nightly crawl: the session's, copied, and classified."""
    copy_warehouse(sample_crawled[0], warehouse)
    classify_warehouse(warehouse)
    return sample_crawled[1].run_id


def test_a_nightly_sequence_shows_exactly_the_three_changes(sample_crawled, sample_world, emulator, warehouse, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    first = first_night(sample_crawled, warehouse)
    with pytest.raises(NoSuchRun):
        diff_runs(warehouse)
    # overnight: a licence changes, a repo is gated, a repo disappears
    card = world / "models" / "tinystack" / "tiny-bert-sentiment" / "files" / "README.md"
    card.write_text(card.read_text("utf-8").replace("license: mit", "license: cc-by-nc-4.0"), "utf-8")
    info_path = world / "models" / "tinystack" / "tiny-bert-sentiment" / "info.json"
    info = json.loads(info_path.read_text("utf-8"))
    info["cardData"]["license"] = "cc-by-nc-4.0"
    info["tags"] = [t.replace("license:mit", "license:cc-by-nc-4.0") for t in info.get("tags", [])]
    info_path.write_text(json.dumps(info), "utf-8")
    gated_path = world / "models" / "openfield" / "polyglot-1b" / "info.json"
    gated = json.loads(gated_path.read_text("utf-8"))
    gated["gated"] = "manual"
    gated_path.write_text(json.dumps(gated), "utf-8")
    shutil.rmtree(world / "models" / "tinystack" / "multi-format")
    second = nightly(warehouse, emulator(world))

    result = diff_runs(warehouse)
    assert (result.run_a, result.run_b) == (first, second) and result.note is None
    assert result.models == ["openfield/polyglot-1b", "tinystack/multi-format", "tinystack/tiny-bert-sentiment"]
    kinds = {(c.model_id, c.kind): (c.before, c.after) for c in result.changes}
    assert kinds[("tinystack/tiny-bert-sentiment", "licence")] == ("mit", "cc-by-nc-4.0")
    assert kinds[("openfield/polyglot-1b", "gating")] == ("none", "manual")
    assert ("tinystack/multi-format", "removed") in kinds
    weights = [c for c in result.changes if c.kind == "classification" and c.detail == "deployment.data.weights"]
    assert [(c.model_id, c.before, c.after) for c in weights] == [("tinystack/tiny-bert-sentiment", "D5", "D4")]

    runner = CliRunner()
    text = runner.invoke(cli, ["--warehouse", warehouse, "diff"])
    assert text.exit_code == 0 and "3 models changed" in text.output and "mit -> cc-by-nc-4.0" in text.output
    as_json = json.loads(runner.invoke(cli, ["--warehouse", warehouse, "diff", "--json", first, second]).output)
    assert as_json["counts"]["removed"] == 1 and as_json["run_a"] == first
    unknown = runner.invoke(cli, ["--warehouse", warehouse, "diff", "no-such-run"])
    assert unknown.exit_code == 1 and "no crawl run" in unknown.output


def test_nothing_changed_means_no_changes(sample_crawled, sample_world, emulator, warehouse):
    first_night(sample_crawled, warehouse)
    nightly(warehouse, emulator(sample_world))
    result = diff_runs(warehouse)
    assert result.changes == [] and result.counts == {}


def test_by_default_a_run_is_compared_with_the_last_one_that_selected_the_same_models(sample_crawled, sample_world,
                                                                                          emulator, warehouse):
    """The demo crawls the listing, then a few repos by id: `diff` with no runs compares the two
    listing crawls, not the by-id crawl with the listing (which would call nearly every model
    'removed'); with one run given, its partner is chosen the same way."""
    server = emulator(sample_world)
    listing = first_night(sample_crawled, warehouse)
    by_id = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, model_ids=["aurora-labs/aurora-7b"],
                                  **world_endpoints(server))).run_id
    again = nightly(warehouse, server)
    result = diff_runs(warehouse)
    assert (result.run_a, result.run_b) == (listing, again) and result.changes == [] and result.note is None
    assert (diff_runs(warehouse, run_b=by_id).run_a, diff_runs(warehouse, listing).run_b) == (listing, again)
    text = CliRunner().invoke(cli, ["--warehouse", warehouse, "diff"]).output
    assert text.startswith(f"{listing} -> {again}: no changes")


def test_an_audit_after_a_crawl_calls_no_model_removed(sample_crawled, sample_world, emulator, warehouse, tmp_path):
    """The latest run audited one model (crawled by id) after a crawl of the whole listing: the
    default comparison pairs them, and the models the audit did not ask for are not 'removed'; a
    change to the audited model still shows."""
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    listing = first_night(sample_crawled, warehouse)
    card = world / "models" / "tinystack" / "tiny-bert-sentiment" / "files" / "README.md"
    card.write_text(card.read_text("utf-8") + "\nMore words.\n", "utf-8")
    audit = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, model_ids=["tinystack/tiny-bert-sentiment"],
                                  follow_depth=0, **world_endpoints(emulator(world)))).run_id
    result = diff_runs(warehouse)
    assert (result.run_a, result.run_b) == (listing, audit)
    assert not [c for c in result.changes if c.kind in ("new", "removed")]
    assert [(c.model_id, c.kind) for c in result.changes] == [("tinystack/tiny-bert-sentiment", "updated")]
    assert "only the models both listed are compared" in result.note
