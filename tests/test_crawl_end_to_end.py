"""Crawls through the emulator with the real pipeline: Scrapy, staging, loading."""
from __future__ import annotations

import json

import duckdb
import pytest

from conftest import request_log, scalar, warehouse_content, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl

FAST = {"RETRY_BACKOFF_BASE": 0.01, "WEB_DELAY": 0.0}


def crawl(warehouse, server, **options):
    settings = {**FAST, **options.pop("settings", {})}
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings=settings,
                                 **{**world_endpoints(server), **options}))


def test_real_sample_loads_every_model_with_siblings_card_and_documents(real_sample, emulator, warehouse):
    server = emulator(real_sample)
    result = crawl(warehouse, server)
    assert result.status == "complete"
    model_ids = sorted(p.parent.name + "/" + p.name for p in (real_sample / "models").glob("*/*"))
    assert result.models_new == len(model_ids) == 6
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute("SELECT model_id, card_data, license, complete FROM models ORDER BY model_id").fetchall()
    assert [r[0] for r in rows] == model_ids
    for model_id, card_data, licence, complete in rows:
        assert json.loads(card_data), model_id
        assert licence, model_id
        assert complete, model_id
        info = json.loads((real_sample / "models" / model_id / "info.json").read_text())
        stored = {r[0] for r in con.execute("SELECT path FROM repo_files WHERE model_id = ?", [model_id]).fetchall()}
        assert {s["rfilename"] for s in info["siblings"]} <= stored
        readme = con.execute("SELECT text FROM documents WHERE model_id = ? AND path = 'README.md'",
                             [model_id]).fetchone()[0]
        raw = (real_sample / "models" / model_id / "files" / "README.md").read_bytes()
        assert readme == raw.decode("utf-8-sig")
    con.close()


def test_second_crawl_of_unchanged_world_makes_no_resolve_requests_and_adds_no_rows(real_sample, emulator,
                                                                                      warehouse):
    server = emulator(real_sample)
    crawl(warehouse, server)
    before = warehouse_content(warehouse)
    logged = len(request_log(server))
    second = crawl(warehouse, server)
    after_requests = request_log(server)[logged:]
    assert second.models_unchanged == 6 and second.models_new == second.models_changed == 0
    assert [r for r in after_requests if r["bucket"] == "resolvers"] == []
    assert len(after_requests) == 1  # one listing page, nothing else
    assert warehouse_content(warehouse) == before
    assert scalar(warehouse, "SELECT count(*) FROM model_stats") == 12  # volatile counters per run
    assert scalar(warehouse, "SELECT count(*) FROM crawl_runs WHERE status = 'complete'") == 2


def test_changed_repo_is_fetched_again(sample_world, emulator, warehouse, tmp_path):
    import shutil
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    server = emulator(world)
    crawl(warehouse, server, limit=4, sort="downloads")
    readme = world / "models" / "aurora-labs" / "aurora-7b" / "files" / "README.md"
    readme.write_text(readme.read_text() + "\nUpdated.\n")
    server2 = emulator(world)  # a world is read at start, like a Hub snapshot
    result = crawl(warehouse, server2, limit=4, sort="downloads")
    assert (result.models_changed, result.models_unchanged) == (1, 3)
    assert scalar(warehouse, "SELECT count(DISTINCT sha) FROM models WHERE model_id = 'aurora-labs/aurora-7b'") == 2
    latest = scalar(warehouse, "SELECT text FROM documents d JOIN latest_models m USING (model_id, sha) "
                               "WHERE model_id = 'aurora-labs/aurora-7b' AND path = 'README.md'")
    assert latest.endswith("Updated.\n")


def test_selection_options_reach_the_listing(sample_world, emulator, warehouse):
    server = emulator(sample_world, page_size=4)
    result = crawl(warehouse, server, authors=["basalt", "tinystack"], filters=["transformers"])
    stored = {r[0] for r in duckdb.connect(warehouse, read_only=True).execute("SELECT model_id FROM models").fetchall()}
    assert stored == {"basalt/untitled-checkpoint", "basalt/plain-readme-model", "tinystack/tiny-bert-sentiment",
                      "tinystack/tinygpt-v2", "tinystack/multi-format"}
    assert result.models_seen == 5
    listing = [r["path"] for r in request_log(server) if r["path"].startswith("/api/models?")]
    assert any("author=basalt" in p for p in listing) and any("author=tinystack" in p for p in listing)
    assert all("filter=transformers" in p and "expand=siblings" in p for p in listing)


def test_limit_stops_after_n_models_across_pages(sample_world, emulator, warehouse):
    server = emulator(sample_world, page_size=4)
    result = crawl(warehouse, server, limit=7, sort="downloads")
    # the 5th listed (basalt/bad-date) has a date the client cannot parse: rewritten, noted, stored
    assert result.models_seen == 7 and result.failures == {"bad_field": 1, "gated": 2}
    assert scalar(warehouse, "SELECT count(*) FROM models") == 7
    assert len([r for r in request_log(server) if r["path"].startswith("/api/models?")]) == 2
    first = scalar(warehouse, "SELECT model_id FROM models ORDER BY downloads DESC LIMIT 1")
    assert first == "nimbus-ai/nimbus-13b"


@pytest.mark.parametrize("model_id,reason,status", [
    ("tinystack/tiny-gpt", "renamed", 307),
    ("nimbus-ai/nimbus-internal", "not_found", 401),
    ("basalt/taken-down", "disabled", 403),
    ("nobody/never-existed", "not_found", 401),
])
def test_models_by_id_record_why_they_were_not_stored(sample_world, emulator, warehouse, model_id, reason, status):
    server = emulator(sample_world)
    result = crawl(warehouse, server, model_ids=[model_id])
    assert result.failures == {reason: 1}
    row = duckdb.connect(warehouse, read_only=True).execute(
        "SELECT model_id, status, message FROM fetch_failures").fetchone()
    assert row[:2] == (model_id, status) and row[2]
    stored = scalar(warehouse, "SELECT count(*) FROM models")
    assert stored == (1 if reason == "renamed" else 0)
    if reason == "renamed":
        assert scalar(warehouse, "SELECT model_id FROM models") == "tinystack/tinygpt-v2"


def test_full_fetches_every_model_again_whole(sample_crawled, sample_world, emulator, tmp_path):
    """--full reads every listed model's files again, not just what an incomplete commit lacks, and
    an unchanged world gives the same rows."""
    from conftest import copy_warehouse
    first = sample_crawled[1]
    warehouse = copy_warehouse(sample_crawled[0], str(tmp_path / "openness.duckdb"))
    server = emulator(sample_world)
    again = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, full=True, follow_depth=0,
                                  **world_endpoints(server)))
    assert again.models_again == first.models_seen and again.models_retried == 0
    assert again.files_fetched == first.files_fetched > 0
    assert len([r for r in request_log(server) if "/resolve/" in r["path"]]) >= first.files_fetched
    assert warehouse_content(warehouse) == warehouse_content(sample_crawled[0])
