"""Models that leave the listing between two crawls are noticed and recorded: deleted, renamed,
made private, disabled, or still there but no longer selected; each costs one request."""
from __future__ import annotations

import json
import shutil

from conftest import request_log, scalar, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.crawler.spiders.vanished import outcome_of
from openness.warehouse.db import connect
from openness.outputs.diff import diff_runs


def crawl(warehouse, server, **options):
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0, **options,
                                 **world_endpoints(server)))


def edit_info(world, model_id, **changes):
    path = world / "models" / model_id / "info.json"
    info = json.loads(path.read_text("utf-8"))
    info.update(changes)
    path.write_text(json.dumps(info), "utf-8")


def vanished(warehouse, run_id):
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("SELECT model_id, outcome, now_id, last_seen_run FROM vanished_models WHERE run_id = ? "
                           "ORDER BY 1", [run_id]).fetchall()
    return {model_id: (outcome, now_id, last_run) for model_id, outcome, now_id, last_run in rows}


def test_deleted_renamed_private_and_disabled_repos_are_recorded(sample_world, emulator, warehouse, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    first = crawl(warehouse, emulator(world))
    shutil.rmtree(world / "models" / "tinystack" / "multi-format")
    shutil.move(world / "models" / "openfield" / "gpl-embedder", world / "models" / "openfield" / "gpl-embedder-v2")
    edit_info(world, "openfield/gpl-embedder-v2", id="openfield/gpl-embedder-v2")
    redirects = json.loads((world / "redirects.json").read_text("utf-8"))
    redirects["models/openfield/gpl-embedder"] = "models/openfield/gpl-embedder-v2"
    (world / "redirects.json").write_text(json.dumps(redirects), "utf-8")
    edit_info(world, "quillwork/modele-francais", private=True)
    edit_info(world, "lumen-collective/whisperlite-onnx", disabled=True)
    server = emulator(world)
    second = crawl(warehouse, server)

    assert vanished(warehouse, second.run_id) == {
        "tinystack/multi-format": ("gone", None, first.run_id),
        "openfield/gpl-embedder": ("renamed", "openfield/gpl-embedder-v2", first.run_id),
        "quillwork/modele-francais": ("gone", None, first.run_id),  # a visitor cannot tell private from deleted
        "lumen-collective/whisperlite-onnx": ("disabled", None, first.run_id)}
    # one info request per vanished model (the renamed one's redirect followed), beside the listing
    asked = [e["path"].split("?")[0] for e in request_log(server) if e["path"].startswith("/api/models/")
             and "/tree/" not in e["path"]]
    assert sorted(asked) == sorted([f"/api/models/{m}" for m in vanished(warehouse, second.run_id)]
                                   + ["/api/models/openfield/gpl-embedder-v2"])

    changes = {(c.model_id, c.kind): c for c in diff_runs(warehouse).changes}
    assert changes[("openfield/gpl-embedder", "renamed")].after == "openfield/gpl-embedder-v2"
    assert ("openfield/gpl-embedder-v2", "new") not in changes and ("openfield/gpl-embedder", "removed") not in changes
    assert changes[("tinystack/multi-format", "removed")].detail == "gone"
    assert changes[("lumen-collective/whisperlite-onnx", "removed")].detail == "disabled"

    third = crawl(warehouse, server)  # nothing left the listing since the second crawl
    assert vanished(warehouse, third.run_id) == {}


def test_a_model_that_leaves_a_filtered_selection_is_unlisted_not_gone(sample_world, emulator, warehouse, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    first = crawl(warehouse, emulator(world), filters=["license:mit"])
    assert scalar(warehouse, "SELECT count(*) FROM model_stats WHERE run_id = ? AND model_id = ?",
                  [first.run_id, "tinystack/tiny-bert-sentiment"]) == 1
    info = json.loads((world / "models" / "tinystack" / "tiny-bert-sentiment" / "info.json").read_text("utf-8"))
    edit_info(world, "tinystack/tiny-bert-sentiment",
              tags=[t.replace("license:mit", "license:cc-by-nc-4.0") for t in info.get("tags", [])])
    server = emulator(world)
    # a crawl of another selection compares with nothing; a limited one cannot tell who left
    other = crawl(warehouse, server, filters=["license:apache-2.0"])
    limited = crawl(warehouse, server, filters=["license:mit"], limit=1)
    second = crawl(warehouse, server, filters=["license:mit"], full=True)
    assert vanished(warehouse, other.run_id) == {} and vanished(warehouse, limited.run_id) == {}
    assert vanished(warehouse, second.run_id) == {"tinystack/tiny-bert-sentiment": ("unlisted", None, first.run_id)}


def test_outcomes_of_an_info_answer():
    assert outcome_of("a/b", 200, {"id": "a/b", "private": True}, None, False) == ("private", None)
    assert outcome_of("a/b", 200, {"id": "c/b"}, None, False) == ("renamed", "c/b")
    assert outcome_of("a/b", 200, {"id": "a/b"}, None, False) == ("unlisted", None)
    assert outcome_of("a/b", 404, None, "not_found", False) == ("gone", None)
    assert outcome_of("a/b", 403, None, "disabled", False) == ("disabled", None)
    assert outcome_of("a/b", 503, None, "server_error", True) == ("unknown", None)
    assert outcome_of("a/b", 200, "<html>", None, True) == ("unknown", None)
