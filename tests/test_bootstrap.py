"""A first crawl from the Hub's card dump (crawl --bootstrap): cards read from the dump only when
its row is as new as the listing, the rest fetched; the same verdicts as a crawl that fetches every
card; provenance kept; a dump that cannot be read never fails the crawl."""
from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.classification.scale.classify import classify_warehouse
from openness.crawler.card_dump import DumpCard, fresh_card, schema_problem
from openness.emulator.card_dump import DEFAULT_DATASET, older_card, write_card_dump
from openness.pipeline.runner import CrawlConfig, run_crawl
from tests.conftest import FakeStats, request_log, rows, warehouse_content, world_endpoints

DUMP_FILE = "data/train-00000-of-00001.parquet"


def _crawl(server, path, tmp_path, bootstrap="off", limit=None, **settings):
    config = CrawlConfig(warehouse=path, use_token=False, bootstrap=bootstrap, follow_depth=0, limit=limit,
                         settings={"WEB_DELAY": 0.0, "CRAWL_BOOTSTRAP_CACHE": str(tmp_path / "hf-cache"), **settings},
                         **world_endpoints(server))
    return run_crawl(config)


@pytest.fixture
def dump_world(sample_world, tmp_path):
    """The sample world's cards as a dump, a fifth of them older than the world's."""
    written = write_card_dump([sample_world], tmp_path / "dump", stale=0.2, seed=3)
    return tmp_path / "dump", written


def _readme_requests(server) -> int:
    return sum(1 for r in request_log(server) if r["path"].endswith("/README.md") and "/datasets/" not in r["path"])


# -- the dump writer ----------------------------------------------------------------------------

def test_dump_cards_writes_the_hubs_layout_with_a_stale_share(sample_world, tmp_path):
    written = write_card_dump([sample_world], tmp_path / "d", stale=0.2, seed=3)
    table = pq.read_table(written.folder / "files" / DUMP_FILE)
    assert {"modelId", "author", "last_modified", "createdAt", "downloads", "likes", "library_name", "tags",
            "pipeline_tag", "card"} == set(table.schema.names)
    assert table.num_rows == written.rows == 30 and written.stale == 6
    again = write_card_dump([sample_world], tmp_path / "e", stale=0.2, seed=3)
    assert (again.folder / "files" / DUMP_FILE).read_bytes() == (written.folder / "files" / DUMP_FILE).read_bytes()
    readme = (written.folder / "files" / "README.md").read_text("utf-8")
    assert "configs:" in readme and "data/train-*" in readme
    stale = [r for r in table.to_pylist() if r["card"].endswith("More information needed.\n")]
    assert len(stale) == 6


@pytest.mark.parametrize("card, kept", [
    ("---\nlicense: mit\n---\n# A\n\nLong prose.\n", "---\nlicense: mit\n---"),
    ("# No metadata\n\nProse.\n", "# Model card"),
    ("---\nlicense: mit\nno end of block\n", "# Model card"),
])
def test_an_older_card_keeps_the_metadata_block_and_loses_the_prose(card, kept):
    older = older_card(card)
    assert older.startswith(kept) and older != card and "Prose" not in older


def test_dump_cards_cli_refuses_a_share_out_of_range_in_one_line(sample_world, tmp_path):
    result = CliRunner().invoke(cli, ["world", "dump-cards", str(sample_world), "--out", str(tmp_path), "--stale", "2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["world", "dump-cards", str(sample_world), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0 and "30 cards in 1 Parquet file, 0 stale" in result.output


# -- when a dump's card counts --------------------------------------------------------------------

def _card(when: str) -> DumpCard:
    return DumpCard("# card", datetime.fromisoformat(when), DUMP_FILE, 0)


@pytest.mark.parametrize("dumped, listed, fresh", [
    ("2026-12-03 10:00:00", "2026-12-03T10:00:00.000Z", True),       # the same commit time
    ("2026-12-04 00:00:00", "2026-12-03T10:00:00.000Z", True),       # newer in the dump
    ("2026-12-03 09:59:59.999", "2026-12-03T10:00:00.000Z", False),  # a millisecond older
    ("2026-12-03 10:00:00.000900", "2026-12-03T10:00:00.000Z", True),  # microseconds past the listing's precision
    ("2026-11-01 00:00:00", "2026-12-03T10:00:00.000Z", False),      # a commit after the dump
    ("2026-12-03 10:00:00", "2026-12-03T10:00:00.734Z", True),       # a dump kept in whole seconds
    ("2026-12-03 09:59:59", "2026-12-03T10:00:00.734Z", False),
    ("2026-12-03 10:00:00.500", "2026-12-03T10:00:00.734Z", False),  # it keeps milliseconds: they count
])
def test_a_dump_card_counts_only_when_as_new_as_the_listing(dumped, listed, fresh):
    when = datetime.fromisoformat(listed.replace("Z", "+00:00"))
    assert fresh_card(_card(dumped), when) is fresh


def test_no_card_or_no_listed_date_is_never_fresh():
    assert not fresh_card(None, datetime(2026, 1, 1))
    assert not fresh_card(_card("2026-12-03 10:00:00"), None)


@pytest.mark.parametrize("schema, problem", [
    (pa.schema([("modelId", pa.string()), ("last_modified", pa.string()), ("card", pa.string())]), None),
    (pa.schema([("modelId", pa.large_string()), ("last_modified", pa.timestamp("ms")), ("card", pa.large_string())]), None),
    (pa.schema([("modelId", pa.string()), ("last_modified", pa.string())]), "no column 'card'"),
    (pa.schema([("id", pa.string()), ("last_modified", pa.string()), ("card", pa.string())]), "no column 'modelId'"),
    (pa.schema([("modelId", pa.string()), ("last_modified", pa.int64()), ("card", pa.string())]), "as int64"),
])
def test_only_a_schema_we_know_is_read(tmp_path, schema, problem):
    path = tmp_path / "x.parquet"
    pq.write_table(schema.empty_table(), path)
    found = schema_problem(str(path))
    assert (found is None) if problem is None else (problem in found)


def test_a_file_that_is_not_parquet_is_a_schema_problem(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"<html>Please sign in</html>")
    assert "is not a Parquet file" in schema_problem(str(path))


# -- crawling with a dump ---------------------------------------------------------------------------

def test_bootstrap_reads_fresh_cards_from_the_dump_and_fetches_the_stale_ones(sample_world, dump_world, emulator,
                                                                                tmp_path):
    folder, written = dump_world
    server = emulator([sample_world, folder])
    path = str(tmp_path / "boot.duckdb")
    result = _crawl(server, path, tmp_path, bootstrap=DEFAULT_DATASET)
    assert result.status == "complete"
    assert (result.cards_from_dump, result.cards_stale_in_dump, result.cards_not_in_dump) == (23, 6, 1)
    assert result.bootstrap.startswith("cards from the Hub's daily dump of ")
    assert _readme_requests(server) == 7  # the stale ones, and one the dump could not decode
    documents = rows(path, "SELECT model_id, text, dump_dataset, dump_revision, dump_file, dump_row, dump_date, url "
                           "FROM documents WHERE path = 'README.md'")
    from_dump = [d for d in documents if d[2]]
    assert len(from_dump) == 23 and all(d[2] == DEFAULT_DATASET and d[4] == DUMP_FILE and d[6] for d in from_dump)
    assert all(d[7].startswith(f"https://huggingface.co/datasets/{DEFAULT_DATASET}/blob/{d[3]}/") for d in from_dump)
    table = pq.read_table(written.folder / "files" / DUMP_FILE).to_pylist()
    for model_id, text, _, _, _, row, _, _ in from_dump:  # the row named is the model's row
        assert table[row]["modelId"] == model_id and table[row]["card"].removeprefix("\ufeff") == text
    for model_id, text, *_ in from_dump:  # every card read from the dump is the one at the listed commit
        owner, name = model_id.split("/")
        assert text == (sample_world / "models" / owner / name / "files" / "README.md").read_bytes().decode("utf-8-sig")
    # the dump's requests are counted: its info (api), a HEAD and a GET of its one file (resolvers)
    dump_requests = [r for r in request_log(server) if f"datasets/{DEFAULT_DATASET}" in r["path"]]
    assert len(dump_requests) == 3


def test_verdicts_from_the_dump_equal_a_crawl_of_every_card_byte_for_byte(sample_world, dump_world, emulator,
                                                                          tmp_path):
    folder, _ = dump_world
    server = emulator([sample_world, folder])
    plain, boot = str(tmp_path / "plain.duckdb"), str(tmp_path / "boot.duckdb")
    _crawl(server, plain, tmp_path)
    _crawl(server, boot, tmp_path, bootstrap=DEFAULT_DATASET)
    for path in (plain, boot):
        classify_warehouse(path)
    tables = ("models", "repo_files", "findings", "model_links", "classifications", "model_summaries")
    assert warehouse_content(boot, tables) == warehouse_content(plain, tables)
    # and the documents differ only in where the cards were read
    read = "SELECT model_id, path, text, sha256, size_bytes, encoding, truncated FROM documents ORDER BY 1, 2"
    assert rows(boot, read) == rows(plain, read), [
        (a, b) for a, b in zip(rows(boot, read), rows(plain, read)) if a != b][0]


def test_a_later_crawl_that_fetches_the_card_replaces_the_dumps(sample_world, dump_world, emulator, tmp_path):
    folder, _ = dump_world
    server = emulator([sample_world, folder])
    path = str(tmp_path / "boot.duckdb")
    _crawl(server, path, tmp_path, bootstrap=DEFAULT_DATASET)
    assert rows(path, "SELECT count(*) FROM documents WHERE dump_dataset IS NOT NULL")[0][0] == 23
    run_crawl(CrawlConfig(warehouse=path, use_token=False, bootstrap="off", follow_depth=0, full=True,
                          **world_endpoints(server)))
    assert rows(path, "SELECT count(*) FROM documents WHERE dump_dataset IS NOT NULL")[0][0] == 0
    assert rows(path, "SELECT count(*) FROM documents WHERE path = 'README.md'")[0][0] == 30


@pytest.mark.parametrize("spoil, said", [
    ("missing", "could not be read"),
    ("no_card_column", "has no column 'card'"),
    ("not_parquet", "is not a Parquet file"),
])
def test_a_dump_that_cannot_be_read_is_one_line_and_every_card_is_fetched(sample_world, emulator, tmp_path,
                                                                           spoil, said, caplog):
    folder = tmp_path / "dump"
    written = write_card_dump([sample_world], folder)
    data = written.folder / "files" / DUMP_FILE
    if spoil == "no_card_column":
        pq.write_table(pq.read_table(data).drop(["card"]), data)
    elif spoil == "not_parquet":
        data.write_bytes(b"<!DOCTYPE html><html>Please sign in to the network</html>")
    server = emulator([sample_world, folder])
    dataset = "nobody/no-such-dump" if spoil == "missing" else DEFAULT_DATASET
    result = _crawl(server, str(tmp_path / "w.duckdb"), tmp_path, bootstrap=dataset)
    assert result.status == "complete" and result.cards_from_dump == 0
    assert result.bootstrap.startswith("not used: card dump") and said in result.bootstrap
    assert _readme_requests(server) == 30


def test_auto_uses_the_default_dump_only_for_a_large_first_listing(sample_world, dump_world, emulator, tmp_path):
    folder, _ = dump_world
    server = emulator([sample_world, folder], page_size=7)  # five listing pages, held until 10 models are listed
    path = str(tmp_path / "w.duckdb")
    small = _crawl(server, str(tmp_path / "small.duckdb"), tmp_path, bootstrap="auto", CRAWL_BOOTSTRAP_MIN_MODELS=100)
    assert small.bootstrap is None and small.cards_from_dump == 0 and small.models_new == 31
    first = _crawl(server, path, tmp_path, bootstrap="auto", CRAWL_BOOTSTRAP_MIN_MODELS=10)
    assert first.cards_from_dump == 23 and first.models_new == 31 and first.status == "complete"
    again = _crawl(server, path, tmp_path, bootstrap="auto", CRAWL_BOOTSTRAP_MIN_MODELS=10)
    assert again.bootstrap is None and again.models_unchanged == 31  # most stored: no dump opened
    limited = _crawl(server, str(tmp_path / "limited.duckdb"), tmp_path, bootstrap="auto", limit=9,
                     CRAWL_BOOTSTRAP_MIN_MODELS=10)
    assert limited.bootstrap is None and limited.models_new == 9


def test_the_crawl_summary_says_where_cards_came_from(sample_world, dump_world, emulator, tmp_path):
    folder, _ = dump_world
    server = emulator([sample_world, folder])
    result = CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "crawl", "--world-endpoint",
                                      server.base_url, "--bootstrap", DEFAULT_DATASET, "--follow-depth", "0"],
                                env={"HF_HUB_CACHE": str(tmp_path / "cache"), "HF_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "cards    from the Hub's daily dump of " in result.output
    assert "23 read from it, 6 older there than the listing and 1 not in it or not readable there" in result.output


def test_a_staged_batch_from_before_the_dump_columns_still_loads(tmp_path):
    from openness.warehouse.db import connect, ensure_schema
    from openness.warehouse.load import load_batch
    path = str(tmp_path / "w.duckdb")
    batch = tmp_path / "staging" / "20260101T000000Z-abcdef-000001"
    batch.mkdir(parents=True)
    row = {"model_id": "a/b", "sha": "1" * 40, "path": "README.md", "url": "u", "http_status": 200, "sha256": "x",
           "size_bytes": 1, "encoding": "utf-8", "truncated": False, "text": "t",
           "fetched_at": datetime(2026, 1, 1), "run_id": "r"}
    pq.write_table(pa.Table.from_pylist([row]), batch / "documents.parquet")
    with connect(path) as con:
        ensure_schema(con)
        assert load_batch(con, batch) == 1
        assert con.execute("SELECT text, dump_dataset FROM documents").fetchall() == [("t", None)]


def test_explain_the_report_and_spdx_say_a_card_came_from_the_dump(sample_world, dump_world, emulator, tmp_path):
    from openness.classification.scale.classify import explain
    from openness.outputs.report import write_report
    from openness.outputs.spdx import export_spdx
    folder, _ = dump_world
    server = emulator([sample_world, folder])
    path = str(tmp_path / "boot.duckdb")
    _crawl(server, path, tmp_path, bootstrap=DEFAULT_DATASET)
    classify_warehouse(path)
    model, sha, revision, row = rows(path, "SELECT model_id, sha, dump_revision, dump_row FROM documents WHERE "
                                           "dump_dataset IS NOT NULL AND model_id = 'aurora-labs/aurora-7b'")[0]
    note = (f"card read from the Hub's daily dump of {dump_world[1].date[:10]} ({DEFAULT_DATASET}@{revision[:12]}, "
            f"{DUMP_FILE} row {row}); model commit {sha[:12]} from the listing")
    explained = explain(path, model)
    assert explained["card_read_from"] == note
    readme_evidence = [e for c in explained["components"].values() for e in c["evidence"] if e.get("path") == "README.md"]
    assert readme_evidence and all(e["read_from"] == note for e in readme_evidence)
    text = CliRunner().invoke(cli, ["--warehouse", path, "explain", model])
    assert text.exit_code == 0 and f"README.md: {note}" in text.output
    report = write_report(path, str(tmp_path / "report"))
    assert note in (tmp_path / "report" / "index.html").read_text("utf-8") and report.models_shown
    export_spdx(path, str(tmp_path / "spdx"), model_ids=[model])
    assert any(note in p.read_text("utf-8") for p in (tmp_path / "spdx").rglob("*.json"))
    # a model whose card was fetched from its repo says nothing of a dump
    fetched = rows(path, "SELECT model_id FROM documents WHERE path = 'README.md' AND dump_dataset IS NULL")[0][0]
    assert explain(path, fetched)["card_read_from"] is None


def _bootstrap(tmp_path, mode="auto", selection=None, min_models=10):
    from types import SimpleNamespace
    from openness.crawler.spiders.bootstrap import Bootstrap
    spider = SimpleNamespace(selection=selection or {}, warehouse=str(tmp_path / "none.duckdb"),
                             crawler=SimpleNamespace(stats=FakeStats()))
    return Bootstrap(spider, mode, DEFAULT_DATASET, min_models, None, str(tmp_path))


def _page(start, count):
    return [{"id": f"o/m{i}", "sha": "a" * 40} for i in range(start, start + count)]


def test_auto_holds_pages_until_it_knows_then_hands_them_all_on(tmp_path):
    boot = _bootstrap(tmp_path)
    assert boot.hold(_page(0, 4), "p1", more=True) == [] and boot.state == "undecided"
    assert boot.hold(_page(4, 4), "p2", more=True) == []
    pages = boot.hold(_page(8, 4), "p3", more=True)  # 12 models listed, none stored: a first crawl
    assert [url for _, url in pages] == ["p1", "p2", "p3"] and boot.state == "opening"
    short = _bootstrap(tmp_path)
    short.hold(_page(0, 4), "p1", more=True)
    assert [url for _, url in short.hold(_page(4, 3), "p2", more=False)] == ["p1", "p2"] and short.state == "off"


def test_a_listing_that_ends_on_a_failed_page_releases_what_auto_held(tmp_path):
    boot = _bootstrap(tmp_path)
    boot.hold(_page(0, 4), "p1", more=True)
    assert [url for _, url in boot.release()] == ["p1"] and boot.state == "off"
    assert boot.hold(_page(4, 4), "p2", more=True) == [(_page(4, 4), "p2")]


@pytest.mark.parametrize("selection", [{"model_ids": ["a/b"]}, {"authors": ["a", "b"]}, {"limit": 10},
                                       {"follow_only": True}])
def test_auto_is_off_for_selections_that_are_not_one_large_listing(tmp_path, selection):
    assert _bootstrap(tmp_path, selection=selection).state == "off"


@pytest.mark.parametrize("mode, state", [("off", "off"), (DEFAULT_DATASET, "opening"), ("auto", "undecided")])
def test_a_named_dump_opens_at_once_and_off_never(tmp_path, mode, state):
    assert _bootstrap(tmp_path, mode=mode, selection={"limit": 11}).state == state
