"""Every benchmark runs here at a tiny size, so a schema or API change that breaks one fails the
tests instead of rotting until someone measures (the figures themselves are in benchmarks/README.md
and are never timed here: only what each benchmark counts is checked)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_in_some_test():
    benchmarks = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"__init__", "synthetic"}
    tests = "".join(p.read_text("utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    assert {name for name in benchmarks if f"from benchmarks.{name} import" not in tests} == set()


def test_classify_benchmark_full_then_one_percent_changed(tmp_path):
    from benchmarks.classify import measure
    report = measure(3000, tmp_path, workers=2, batch_size=500)  # a pool of two, as on a Hub-scale warehouse
    assert report["models"] == 3000 and report["cells"] == 3000 * 12
    assert report["workers"] == 2 and report["peak_rss_worker_mb"] > 50  # what one worker held, not its parent's
    assert report["changed_commits"] == 30
    assert report["incremental_models"] == 30 and report["incremental_unchanged"] == 2970
    assert report["incremental_redone"] == {"new commit": 30}


def test_follow_benchmark_resolves_every_target_and_follows_nothing_twice(tmp_path):
    from benchmarks.follow import measure
    report = measure(60, 8, 4, 3, tmp_path)
    assert report["targets"] >= 8 + 4 and report["resolved"] == report["targets"]
    assert report["tree_requests_per_repo"] == 1
    assert report["second_crawl"]["targets_followed"] == 0


def test_harvest_benchmark_compares_the_crawl_with_the_naive_loop(tmp_path):
    from benchmarks.harvest import measure
    report = measure(30, None, tmp_path, ratio_models=30)
    assert report["crawl"]["models"] == report["naive"]["models"] == 30
    ratio = report["at_hub_ratio"]  # told no budget: it paced to the server's headers
    assert ratio["crawl"]["budget"] == {"api": "100/20 (server)", "resolvers": "600/20 (server)"}
    assert ratio["crawl"]["unanswered_429"] == 0 and ratio["speedup"] > 0
    assert report["speedup"] > 0 and report["hub_limited_speedup"]["crawl"]
    recrawl = report["unchanged_recrawl"]["requests"]
    assert recrawl["api"] >= 1 and sum(recrawl.values()) == recrawl["api"], recrawl  # listing pages only


def test_scale_benchmark_stays_within_the_budget(tmp_path):
    from benchmarks.scale import measure
    report = measure(150, 1.0, False, 10, tmp_path)
    assert report["crawl"]["models"] == 150 and report["crawl"]["unanswered_429"] == 0
    assert report["unchanged_recrawl"]["other_requests"] == 0
    assert report["whole_hub_projection"]["openness"] and report["speedup_vs_naive"] > 0


def test_bootstrap_benchmark_reads_cards_from_the_dump_with_the_same_verdicts(tmp_path):
    from benchmarks.bootstrap import measure
    report = measure(120, 1.0, 0.05, tmp_path, classify=True, quota_share=0.005)  # api 2, resolvers 15 a second
    plain, boot = report["per_model"], report["bootstrap"]
    assert plain["models"] == boot["models"] == 120 and plain["status"] == boot["status"] == "complete"
    assert (boot["cards_from_dump"], boot["cards_stale_in_dump"]) == (114, 6) and plain["cards_from_dump"] == 0
    # the dump's own requests: its info, a HEAD and a GET of its one file
    assert boot["dump_requests"] == {"api": 1, "resolvers": 2}
    assert boot["requests"]["resolvers"] == plain["requests"]["resolvers"] - 114 + 2
    same = {"equal": True, "rows": {"classifications": 1440, "model_summaries": 120}}
    assert report["verdicts"] == {"bootstrap": same, "deferred": same}  # the latter after its next crawl
    # licence files from spare capacity: the stale cards take most of the resolvers' first window
    deferred, following = report["deferred"], report["next_crawl"]
    assert deferred["licence_files_deferred"] > 0 and following["licence_files_revisited"] > 0
    assert deferred["licence_file_requests"] + following["licence_file_requests"] == boot["licence_file_requests"]
    assert deferred["verdicts"]["all_held_back_not_more_open"] and deferred["verdicts"]["cells_differing"] > 0
    hub = report["whole_hub_projection"]
    assert hub["bootstrap"]["anonymous"]["hours"] < hub["per_model"]["anonymous"]["hours"]
    assert hub["deferred"]["first_crawl"]["anonymous"]["hours"] < hub["bootstrap"]["anonymous"]["hours"]


def test_licence_benchmark_scores_and_times_identification(real_sample):
    from benchmarks.licenses import measure
    report = measure(real_sample, stream_size=200)
    scored = report["real_sample_and_variants"]
    assert isinstance(scored, dict) and scored["texts"] > 0 and scored["accuracy"] >= 0.9
    assert report["speed"]["stream_files_per_s"] > 0


def test_report_benchmark_writes_pages_and_opens_the_first(tmp_path):
    from benchmarks.report import measure
    report = measure(600, tmp_path, limit=250, page_size=100)
    assert report["models"] == 600 and report["matrix_models"] == 250 and report["pages"] == 3
    assert report["index_bytes"] < report["all_pages_bytes"]
    if "chromium" in report:  # Debian's chromium, when installed (tests/test_report.py installs it)
        assert report["chromium"]["rows_drawn"] >= 100 and report["chromium"]["console_errors"] == []


@pytest.mark.parametrize("name", ["classify", "follow", "harvest", "scale", "licenses", "faults", "agreement", "report",
                                  "bootstrap"])
def test_every_benchmark_has_a_measure_function_and_a_main(name):
    import importlib
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.measure) and callable(module.main)
