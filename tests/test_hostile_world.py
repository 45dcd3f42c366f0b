"""A crawl of the hostile world (tests/hostile_world.py) loses nothing and lets nothing in: bad ids
are recorded and the page goes on, wrong types are coerced or dropped and the model is stored, an
HTML page is never a file, an over-size body is `too_large`, evidence stays small, and the emulator
itself survives a YAML bomb."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

import hostile_world
from conftest import rows, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.extractors.base import SNIPPET_MAX


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return hostile_world.build(tmp_path_factory.mktemp("hostile") / "world")


def crawl(warehouse, server, **options):
    settings = {"CRAWL_MAX_DOCUMENT_BYTES": hostile_world.MAX_DOCUMENT, "WEB_DELAY": 0.0}
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings=settings, **world_endpoints(server),
                                 **options))


@pytest.fixture(scope="module")
def crawled(world, tmp_path_factory):
    from openness.emulator import serving
    warehouse = str(tmp_path_factory.mktemp("wh") / "openness.duckdb")
    with serving(world, page_size=4, faults=hostile_world.HTML_FAULTS) as server:
        first = crawl(warehouse, server)
        second = crawl(warehouse, server)
    return warehouse, first, second


def test_bad_ids_are_recorded_and_the_rest_of_the_page_is_crawled(crawled):
    warehouse, first, second = crawled
    stored = {r[0] for r in rows(warehouse, "SELECT model_id FROM models")}
    assert set(hostile_world.GOOD) <= stored
    assert not stored & set(hostile_world.BAD_IDS)
    invalid = {r[0] for r in rows(warehouse, "SELECT model_id FROM fetch_failures WHERE reason = 'invalid_id' "
                                             "AND run_id = ?", [first.run_id])}
    assert invalid == set(hostile_world.BAD_IDS)
    assert first.failures.get("invalid_id") == 2
    # partial for one reason only: the dataset whose files a proxy page always hides is stored
    # incomplete (followed again next time), not for the bad ids, which are recorded
    assert (first.status, first.models_left_incomplete, first.models_not_stored, first.targets_left_incomplete) == (
        "partial", 0, 0, 1)


def test_a_second_crawl_finds_nothing_vanished(crawled):
    warehouse, first, second = crawled
    assert second.models_vanished == 0
    assert rows(warehouse, "SELECT count(*) FROM vanished_models") == [(0,)]


def test_values_of_the_wrong_type_are_dropped_or_coerced_and_the_model_is_stored(crawled):
    warehouse, _, _ = crawled
    [(downloads, tags, card, complete)] = rows(warehouse, "SELECT downloads, tags, card_data, complete FROM models "
                                                          "WHERE model_id = 'hostile/wrong-types'")
    assert downloads is None and tags == [] and complete
    card = json.loads(card)
    assert "tags" not in card and card["license"] == "5" and card["language"] == ["en", "3"]
    [(message,)] = rows(warehouse, "SELECT message FROM fetch_failures WHERE reason = 'bad_field' "
                                   "AND model_id = 'hostile/wrong-types' LIMIT 1")
    assert "downloads: text where a number was expected (dropped)" in message
    assert "cardData.tags: a number" in message


def test_a_count_or_size_past_64_bits_is_a_bad_field_and_loses_nothing(crawled):
    """A likes count of 2**63 once stopped every batch from staging: nothing of the crawl was stored,
    on every rerun, while the summary counted every model. It is a bad field like any other."""
    warehouse, first, second = crawled
    [(likes, downloads, complete)] = rows(warehouse, "SELECT likes, downloads, complete FROM models "
                                                     "WHERE model_id = 'hostile/huge-numbers'")
    assert likes is None and downloads is None and complete
    [(message,)] = rows(warehouse, "SELECT message FROM fetch_failures WHERE reason = 'bad_field' "
                                   "AND model_id = 'hostile/huge-numbers' LIMIT 1")
    assert "likes" in message and "downloads" in message
    assert rows(warehouse, "SELECT size FROM repo_files WHERE model_id = 'hostile/huge-numbers' "
                           "AND path = 'model.safetensors'") == [(None,)]
    stored = {r[0] for r in rows(warehouse, "SELECT model_id FROM models")}
    assert set(hostile_world.GOOD) <= stored and first.models_not_stored == 0 and first.models_left_incomplete == 0


def test_a_batch_that_cannot_be_staged_as_it_is_keeps_its_rows_and_never_blocks_the_next(tmp_path):
    """Staging is the last line: a value a column cannot hold (whatever let it through) is left
    out of its row, with a warning, and the row, its batch and the batches after it are written."""
    from openness.warehouse.load import load_staged
    from openness.warehouse.staging import BatchWriter
    warehouse, root = str(tmp_path / "w.duckdb"), tmp_path / "w.duckdb.staging"
    writer = BatchWriter(root, "run-1")
    for n, likes in enumerate((1, 2**63, 3)):
        writer.add("models", {"model_id": f"o/m{n}", "sha": "a" * 40, "likes": likes, "complete": True, "run_id": "run-1"})
    assert writer.write() is not None and writer.repaired == 1
    writer.add("models", {"model_id": "o/next", "sha": "b" * 40, "likes": 4, "complete": True, "run_id": "run-1"})
    assert writer.write() is not None
    load_staged(warehouse, root)
    assert rows(warehouse, "SELECT model_id, likes FROM models ORDER BY 1") == [
        ("o/m0", 1), ("o/m1", None), ("o/m2", 3), ("o/next", 4)]


def test_a_batch_that_cannot_be_written_is_counted_lost_and_the_crawl_is_not_complete(tmp_path):
    """A batch the disk refuses (here: its folder's place is a file) is lost with its error, counted,
    and never blocks the next; a crawl that stored fewer models than it staged is not complete."""
    from openness.warehouse.load import load_staged
    from openness.warehouse.runs import not_stored
    from openness.warehouse.staging import BatchWriter
    warehouse, root = str(tmp_path / "w.duckdb"), tmp_path / "w.duckdb.staging"
    root.write_text("in the way")
    writer = BatchWriter(root, "run-1")
    for n in range(2):
        writer.add("models", {"model_id": f"o/m{n}", "sha": "a" * 40, "complete": True, "run_id": "run-1"})
    with pytest.raises(OSError):
        writer.write()
    assert writer.lost_models == 2 and writer.pending() == 0
    root.unlink()
    writer.add("models", {"model_id": "o/next", "sha": "b" * 40, "complete": True, "run_id": "run-1"})
    assert writer.write() is not None
    load_staged(warehouse, root)
    assert rows(warehouse, "SELECT model_id FROM models") == [("o/next",)]
    assert not_stored(warehouse, "run-1", staged=3, lost=writer.lost_models) == 2
    assert not_stored(warehouse, "run-1", staged=1, lost=0) == 0


def test_a_dataset_with_values_of_the_wrong_type_is_stored(crawled):
    warehouse, _, _ = crawled
    assert rows(warehouse, "SELECT tags FROM datasets WHERE dataset_id = ?", [hostile_world.ODD_DATASET]) == [([],)]
    assert rows(warehouse, "SELECT status FROM link_targets WHERE target = ?", [hostile_world.ODD_DATASET]) == [("resolved",)]


def test_a_yaml_bomb_is_invalid_metadata(crawled):
    warehouse, _, _ = crawled
    assert rows(warehouse, "SELECT card_status, card_error, card_data FROM models WHERE model_id = 'hostile/yaml-bomb'") \
        == [("invalid_metadata", "YAML aliases expand to more than 100,000 nodes", None)]
    assert rows(warehouse, "SELECT card_status, card_error, card_data FROM models WHERE model_id = 'hostile/scalar-bomb'") \
        == [("invalid_metadata", "YAML aliases expand to more than 2,000,000 characters", None)]


def test_an_html_page_is_never_a_datasets_file(crawled):
    warehouse, _, _ = crawled
    assert rows(warehouse, "SELECT count(*) FROM linked_documents WHERE text ILIKE '%<html%'") == [(0,)]
    reasons = {r[0] for r in rows(warehouse, "SELECT reason FROM fetch_failures WHERE url LIKE ?",
                                  [f"%/datasets/{hostile_world.HTML_DATASET}/resolve/%"])}
    assert reasons == {"unexpected_html"}
    assert rows(warehouse, "SELECT complete FROM datasets WHERE dataset_id = ?", [hostile_world.HTML_DATASET]) == [(False,)]


def test_an_over_size_body_is_too_large_and_not_transient(crawled):
    warehouse, first, second = crawled
    found = rows(warehouse, "SELECT reason, transient, message, run_id FROM fetch_failures "
                            "WHERE model_id = 'hostile/huge-readme' AND path = 'README.md' ORDER BY failed_at")
    assert found and all(r[:2] == ("too_large", False) for r in found)
    assert str(len(hostile_world._card("mit", "x" * hostile_world.HUGE_README_BYTES).encode())) in found[0][2]
    assert {r[3] for r in found} == {first.run_id}  # not fetched again: the same body will be as large
    assert rows(warehouse, "SELECT complete FROM models WHERE model_id = 'hostile/huge-readme'") == [(True,)]


def test_binary_and_traversal_files_store_no_text_and_reach_nothing(crawled):
    warehouse, _, _ = crawled
    assert rows(warehouse, "SELECT card_status FROM models WHERE model_id = 'hostile/binary-readme'") == [("unreadable",)]
    paths = {r[0] for r in rows(warehouse, "SELECT path FROM documents WHERE model_id = 'hostile/traversal'")}
    assert paths == {"README.md", "LICENSE"}
    assert rows(warehouse, "SELECT count(*) FROM documents WHERE text LIKE '%root:%'") == [(0,)]


def test_evidence_snippets_are_capped_everywhere(crawled):
    warehouse, _, _ = crawled
    from openness.classification.scale.classify import classify_warehouse
    classify_warehouse(warehouse)
    longest = rows(warehouse, "SELECT max(length(e.snippet)) FROM (SELECT unnest(from_json(evidence, "
                              "'[{\"snippet\": \"VARCHAR\"}]'), recursive := true) FROM findings) e")
    assert 0 < longest[0][0] <= SNIPPET_MAX
    one_line = rows(warehouse, "SELECT evidence FROM findings WHERE model_id = 'hostile/one-line' "
                               "AND signal = 'licence.prose'")
    for (evidence,) in one_line:
        for entry in json.loads(evidence):
            assert len(entry["snippet"]) <= SNIPPET_MAX and "Apache License 2.0" in entry["snippet"]
            assert entry["column"] > 1
    cells = rows(warehouse, "SELECT max(length(evidence)) FROM classifications")
    assert cells[0][0] < 20 * SNIPPET_MAX


def test_the_emulator_answers_a_listing_with_a_yaml_bomb_in_it(world):
    from openness.emulator import serving
    with serving(world) as server:
        started = time.monotonic()
        with urllib.request.urlopen(f"{server.base_url}/api/models?author=hostile&expand=cardData", timeout=10) as answer:
            listed = json.loads(answer.read())
        assert time.monotonic() - started < 5
    for bomb in ("hostile/yaml-bomb", "hostile/scalar-bomb"):
        assert "cardData" not in next(m for m in listed if m["id"] == bomb)
