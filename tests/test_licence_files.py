"""Licence files left for a later crawl (crawler/licence_files.py): when a crawl defers them, what
the warehouse and the verdicts say until they are read, and that the next crawl reads them first
and ends where a crawl that read everything at once ends, byte for byte."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from openness.cli.formatting import crawl_summary
from openness.cli.main import cli
from openness.classification.scale.classify import classify_warehouse
from openness.crawler.licence_files import effective_mode, read_now
from openness.emulator.card_dump import DEFAULT_DATASET, write_card_dump
from openness.pipeline.errors import ProfileError
from openness.pipeline.profiles import load_profile
from openness.pipeline.runner import CrawlConfig, run_crawl
from tests.conftest import request_log, rows, warehouse_content, world_endpoints

COST = {"api": 0.6, "resolvers": 0.1}        # seconds of quota a request takes (500 and 3,000 per 300 s)
WINDOWS = {"api": 300.0, "resolvers": 300.0}
LICENCE_PATHS = "regexp_matches(path, '(?i)(^|/)(licen[cs]e|copying|notice|use[_-]?policy)')"


# -- the decision -------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, from_dump, mode", [
    ("auto", True, "spare"), ("auto", False, "now"), ("now", True, "now"), ("later", False, "later"),
    (" Spare ", False, "spare"), ("", False, "now")])
def test_auto_defers_only_in_a_crawl_that_reads_cards_from_a_dump(setting, from_dump, mode):
    assert effective_mode(setting, from_dump) == mode


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="CRAWL_LICENCE_FILES must be one of auto, now, spare, later"):
        effective_mode("sometimes", False)


@pytest.mark.parametrize("committed, files, fits", [
    ({"api": 0.0, "resolvers": 0.0}, 1, True),          # the resolvers' first window is there at once
    ({"api": 0.0, "resolvers": 299.9}, 1, True),        # its last request
    ({"api": 0.0, "resolvers": 299.9}, 2, False),       # past it, while the api bucket has nothing to do
    ({"api": 900.0, "resolvers": 800.0}, 3, True),      # the listing's pace leaves the resolvers room
    ({"api": 900.0, "resolvers": 899.9}, 3, False),     # ... until they would end after it
])
def test_spare_reads_licence_files_only_where_they_do_not_push_back_the_crawls_end(committed, files, fits):
    assert read_now("spare", files, committed, COST, WINDOWS) is fits


def test_now_later_and_no_limit_do_not_weigh_capacity():
    full = {"api": 0.0, "resolvers": 10_000.0}
    assert read_now("now", 5, full, COST, WINDOWS) and not read_now("later", 5, {"api": 0, "resolvers": 0}, COST, WINDOWS)
    assert read_now("spare", 5, full, {"api": 0.0, "resolvers": 0.0}, WINDOWS)  # no limit: nothing to spare
    assert read_now("later", 0, full, COST, WINDOWS)                          # nothing to read


# -- a crawl that defers them ------------------------------------------------------------------------

def _crawl(server, path, tmp_path, **options):
    config = CrawlConfig(warehouse=path, use_token=False, follow_depth=0,
                         settings={"WEB_DELAY": 0.0, "CRAWL_BOOTSTRAP_CACHE": str(tmp_path / "hf-cache")},
                         **world_endpoints(server), **options)
    return run_crawl(config)


def _file_gets(server) -> int:
    """Model files asked for beside the cards: GETs through /resolve/ of anything but a README."""
    return sum(1 for r in request_log(server) if r["method"] == "GET" and "/resolve/" in r["path"]
               and "/datasets/" not in r["path"] and not r["path"].endswith("/README.md"))


@pytest.fixture
def world_with_dump(sample_world, tmp_path):
    write_card_dump([sample_world], tmp_path / "dump", stale=0.2, seed=3)
    return [sample_world, tmp_path / "dump"]


def test_deferred_licence_files_are_pending_and_no_licence_they_could_change_is_open(
        world_with_dump, emulator, tmp_path):
    server = emulator(world_with_dump)
    plain, boot = str(tmp_path / "plain.duckdb"), str(tmp_path / "boot.duckdb")
    _crawl(server, plain, tmp_path, bootstrap="off")
    # what the per-model crawl asked for beside the cards: the licence files it read, or could not
    wanted = rows(plain, "SELECT (SELECT count(*) FROM documents WHERE path <> 'README.md') + "
                         "(SELECT count(*) FROM repo_files WHERE unread IS NOT NULL)")[0][0]
    before = _file_gets(server)
    result = _crawl(server, boot, tmp_path, bootstrap=DEFAULT_DATASET, licence_files="later")
    assert result.status == "complete" and _file_gets(server) == before  # not one asked for
    assert result.licence_files_deferred == wanted > 3
    assert "licence files left for the next crawl" in crawl_summary(result)
    pending = rows(boot, "SELECT model_id, path FROM repo_files WHERE unread = 'pending' ORDER BY 1, 2")
    assert len(pending) == wanted
    per_model = rows(boot, "SELECT model_id, licence_files_pending FROM models WHERE licence_files_pending > 0 ORDER BY 1")
    assert sum(n for _, n in per_model) == wanted
    assert {m for m, _ in pending} == {m for m, _ in per_model}
    for path in (plain, boot):
        classify_warehouse(path)
    cells = "SELECT model_id, component, label, reason, level FROM classifications ORDER BY 1, 2"
    differ = [(b, p) for b, p in zip(rows(boot, cells), rows(plain, cells)) if b != p]
    assert differ  # the sample world has open licences beside licence files
    for (model_id, component, label, reason, level), plain_cell in differ:
        # never more open than the crawl that read everything; a cell held back says why
        assert model_id in {m for m, _ in pending}
        assert (label, reason) == ("Unknown", "licence_unread") and plain_cell[4] >= 4, plain_cell


def test_the_next_crawl_reads_them_first_and_ends_where_reading_everything_ends(world_with_dump, emulator, tmp_path):
    server = emulator(world_with_dump)
    plain, boot = str(tmp_path / "plain.duckdb"), str(tmp_path / "boot.duckdb")
    _crawl(server, plain, tmp_path, bootstrap="off")
    first = _crawl(server, boot, tmp_path, bootstrap=DEFAULT_DATASET, licence_files="later")
    models = len(rows(boot, "SELECT DISTINCT model_id FROM repo_files WHERE unread = 'pending'"))
    before = _file_gets(server)
    second = _crawl(server, boot, tmp_path, bootstrap="off")   # a nightly crawl: 'auto' reads now
    assert second.licence_files_revisited == models and second.models_new == second.models_changed == 0
    assert _file_gets(server) - before == first.licence_files_deferred
    assert "pending licence files of" in crawl_summary(second)
    assert rows(boot, "SELECT count(*) FROM repo_files WHERE unread = 'pending'")[0][0] == 0
    for path in (plain, boot):
        classify_warehouse(path)
    tables = ("models", "repo_files", "findings", "model_links", "classifications", "model_summaries")
    assert warehouse_content(boot, tables) == warehouse_content(plain, tables)
    third = _crawl(server, boot, tmp_path, bootstrap="off")   # nothing left to read
    assert third.licence_files_revisited == 0 and third.files_fetched == 0


def test_a_crawl_that_defers_too_leaves_pending_files_pending(world_with_dump, emulator, tmp_path):
    server = emulator(world_with_dump)
    path = str(tmp_path / "boot.duckdb")
    first = _crawl(server, path, tmp_path, bootstrap=DEFAULT_DATASET, licence_files="later")
    again = _crawl(server, path, tmp_path, bootstrap="off", licence_files="later")
    assert again.licence_files_revisited == 0 and again.files_fetched == 0
    assert rows(path, "SELECT count(*) FROM repo_files WHERE unread = 'pending'")[0][0] == first.licence_files_deferred


def test_a_gated_licence_file_says_why_it_was_not_read(sample_world, emulator, tmp_path):
    server = emulator(sample_world)
    path = str(tmp_path / "w.duckdb")
    _crawl(server, path, tmp_path, bootstrap="off")
    gated = rows(path, "SELECT f.model_id, f.path, f.unread FROM repo_files f JOIN models m USING (model_id, sha) "
                       f"WHERE m.gated <> 'none' AND {LICENCE_PATHS} ORDER BY 1, 2")
    assert gated and all(why == "gated" for _, _, why in gated)
    findings = rows(path, "SELECT model_id, value->>'path', value->>'why' FROM findings "
                          "WHERE signal = 'licence.unread' ORDER BY 1, 2")
    assert findings == gated


def test_the_cli_and_a_profile_take_the_mode_and_refuse_others(tmp_path):
    result = CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "crawl", "--licence-files", "never"])
    assert result.exit_code == 2 and "'never' is not one of" in result.output and "Traceback" not in result.output
    profile = tmp_path / "job.toml"
    profile.write_text('warehouse = "w.duckdb"\nexport_dir = "out"\n[crawl]\nlicence_files = "later"\n')
    assert CrawlConfig.from_profile(load_profile(profile)).licence_files == "later"
    profile.write_text('warehouse = "w.duckdb"\nexport_dir = "out"\n[crawl]\nlicence_files = "never"\n')
    with pytest.raises(ProfileError, match="licence_files must be one of"):
        load_profile(profile)


def test_a_revisit_for_sizes_alone_keeps_the_pending_licence_files_pending():
    from huggingface_hub import ModelInfo
    from openness.crawler.records import ModelFetch
    info = ModelInfo(id="o/m", sha="abc", siblings=[{"rfilename": p} for p in ("README.md", "LICENSE", "NOTICE")])
    fetch = ModelFetch(info, {"id": "o/m", "sha": "abc"}, "sizes", licence_files=["LICENSE", "NOTICE"],
                       stored_documents=[{"path": "README.md", "url": "u", "text": "# card"}],
                       stored_files={"LICENSE": {"model_id": "o/m", "sha": "abc", "path": "LICENSE", "unread": "pending"},
                                     "NOTICE": {"model_id": "o/m", "sha": "abc", "path": "NOTICE", "unread": "gated"}})
    item = fetch.item()
    assert item["model"]["licence_files_pending"] == 1
    assert {f["path"]: f["unread"] for f in item["repo_files"]} == {"README.md": None, "LICENSE": "pending",
                                                                     "NOTICE": "gated"}
