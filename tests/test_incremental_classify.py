"""`openness classify` redoes only the models whose inputs changed since their last classification,
says why for each, and leaves the warehouse byte for byte as a full run would (issue: classification
that costs what changed)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import children_of, rows, world_endpoints
from openness.classification.scale import changes
from openness.classification.scale.classify import classify_warehouse
from openness.cli.main import cli
from openness.emulator import serving
from openness.pipeline.runner import CrawlConfig, run_crawl

CELLS = "SELECT * EXCLUDE (run_id) FROM classifications ORDER BY ALL"
SUMMARIES = "SELECT * EXCLUDE (run_id, redone_because) FROM model_summaries ORDER BY ALL"


@pytest.fixture(scope="module")
def classified(sample_world, tmp_path_factory):
    """The sample world crawled (links followed) and classified once."""
    path = str(tmp_path_factory.mktemp("incremental") / "w.duckdb")
    with serving(sample_world) as server:
        run_crawl(CrawlConfig(warehouse=path, use_token=False, settings={"WEB_DELAY": 0.0}, **world_endpoints(server)))
    first = classify_warehouse(path)
    assert first.redone == {changes.NOT_CLASSIFIED: first.models} and first.models >= 30
    return path


@pytest.fixture
def warehouse(classified, tmp_path):
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(classified, copy)
    return copy


def execute(path, *statements):
    with duckdb.connect(path) as con:
        for statement in statements:
            con.execute(statement)


def same_as_a_full_run(path, tmp_path) -> None:
    """The incremental warehouse holds what a full classification of the same inputs writes."""
    full = str(tmp_path / "full.duckdb")
    shutil.copy(path, full)
    classify_warehouse(full, full=True)
    assert rows(path, CELLS) == rows(full, CELLS)
    assert rows(path, SUMMARIES) == rows(full, SUMMARIES)


def derivative_inheriting_from_a_base(path) -> tuple[str, str]:
    """A model with a cell inherited from a stored base, and that base."""
    found = rows(path, "SELECT c.model_id, c.inherited_from FROM classifications c JOIN latest_models USING (model_id, sha) "
                       "WHERE c.inherited_from IN (SELECT model_id FROM latest_models) ORDER BY ALL LIMIT 1")
    assert found, "the sample world has derivatives that inherit cells"
    return found[0]


def test_a_second_run_redoes_nothing(warehouse):
    again = classify_warehouse(warehouse)
    assert again.models == 0 and again.redone == {} and again.unchanged >= 30


def test_changed_findings_redo_the_model_and_what_inherits_from_it(warehouse, tmp_path):
    derivative, base = derivative_inheriting_from_a_base(warehouse)
    # a re-extraction finds nothing in the base's card any more: its cells, and the ones its
    # derivative inherits from it, change
    execute(warehouse, f"DELETE FROM findings WHERE model_id = '{base}'")
    result = classify_warehouse(warehouse)
    assert result.redone.get(changes.FINDINGS) == 1
    why = dict(rows(warehouse, "SELECT model_id, redone_because FROM model_summaries WHERE run_id = ?", [result.run_id]))
    assert why[base] == changes.FINDINGS and why[derivative] == changes.BASE
    assert result.unchanged == len(rows(warehouse, "SELECT 1 FROM latest_models")) - result.models
    same_as_a_full_run(warehouse, tmp_path)


def test_a_changed_link_outcome_or_followed_repo_redoes_the_models_that_link_it(warehouse, tmp_path):
    repo, = rows(warehouse, "SELECT repo FROM code_repos WHERE len(roles) > 0 ORDER BY repo LIMIT 1")[0]
    linking = {m for m, in rows(warehouse, "SELECT DISTINCT model_id FROM model_links WHERE kind = 'code' AND target = ?",
                                [repo])}
    execute(warehouse, "CREATE TEMP TABLE r AS SELECT * REPLACE (['inference'] AS roles) FROM code_repos",
            "DELETE FROM code_repos", "INSERT INTO code_repos SELECT * FROM r")
    result = classify_warehouse(warehouse)
    assert result.redone.get(changes.LINKS, 0) >= len(linking) >= 1
    same_as_a_full_run(warehouse, tmp_path)
    target, = rows(warehouse, "SELECT target FROM link_targets WHERE kind = 'dataset' AND status = 'resolved' "
                              "ORDER BY target LIMIT 1")[0]
    execute(warehouse, f"UPDATE link_targets SET status = 'failed', reason = 'not_found' WHERE target = '{target}'")
    again = classify_warehouse(warehouse)
    assert again.redone.get(changes.LINKS, 0) >= 1
    same_as_a_full_run(warehouse, tmp_path)


def test_a_new_commit_is_classified_and_the_old_ones_summary_stays(warehouse, tmp_path):
    model, sha = rows(warehouse, "SELECT model_id, sha FROM latest_models ORDER BY model_id LIMIT 1")[0]
    execute(warehouse,
            f"CREATE TEMP TABLE m AS SELECT * REPLACE ('new' || sha AS sha, now()::TIMESTAMP AS last_modified) "
            f"FROM models WHERE model_id = '{model}' AND sha = '{sha}'",
            "INSERT INTO models SELECT * FROM m",
            f"INSERT INTO findings SELECT * REPLACE ('new' || sha AS sha) FROM findings WHERE model_id = '{model}' AND sha = '{sha}'")
    result = classify_warehouse(warehouse)
    assert result.redone.get(changes.NEW_COMMIT) == 1
    assert rows(warehouse, "SELECT count(*) FROM model_summaries WHERE model_id = ?", [model])[0][0] == 2
    same_as_a_full_run(warehouse, tmp_path)


def test_new_rules_or_knowledge_redo_everything(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(changes, "classifier_version", lambda: "another-version")
    result = classify_warehouse(warehouse)
    assert result.redone == {changes.CLASSIFIER: result.models} and result.unchanged == 0
    same_as_a_full_run(warehouse, tmp_path)


def test_the_classifier_version_changes_with_any_knowledge_file(tmp_path, monkeypatch):
    before = changes.classifier_version()
    assert before == changes.classifier_version()  # stable
    real_files = changes._files

    def with_one_more(root, pattern):
        yield from real_files(root, pattern)
        if pattern.startswith("data"):
            extra = tmp_path / "extra.yml"
            extra.write_text("a: 1\n")
            yield "data/extra.yml", extra
    monkeypatch.setattr(changes, "_files", with_one_more)
    assert changes.classifier_version() != before


def test_the_command_says_why_and_full_redoes_all(warehouse):
    runner = CliRunner()
    quiet = runner.invoke(cli, ["--warehouse", warehouse, "classify"])
    assert quiet.exit_code == 0 and "0 models classified" in quiet.output and "unchanged" in quiet.output
    full = runner.invoke(cli, ["--warehouse", warehouse, "classify", "--full"])
    assert full.exit_code == 0 and f"  {changes.FULL}" in full.output, full.output


def test_crawling_the_same_world_again_redoes_nothing(tmp_path, sample_world):
    """Everything fetched and extracted again (--full), links followed again: the same inputs. (The
    same endpoint too: evidence carries its URLs, so another port is another input.)"""
    path = str(tmp_path / "w.duckdb")
    port = 0
    runs = []
    for full in (False, True):
        with serving(sample_world, port=port) as server:
            port = server.server_address[1]
            runs.append(run_crawl(CrawlConfig(warehouse=path, use_token=False, full=full,
                                              settings={"WEB_DELAY": 0.0, "FOLLOW_RECHECK_DAYS": 0.0},
                                              **world_endpoints(server))))
        if not full:
            classify_warehouse(path)
    assert rows(path, "SELECT DISTINCT run_id FROM findings") == [(runs[1].run_id,)]  # all written again
    again = classify_warehouse(path)
    assert again.models == 0 and again.redone == {}


def test_workers_write_the_same_bytes_as_one_process(warehouse, tmp_path, monkeypatch):
    """Chunks classified by a pool of processes, level by level of the base chains, give the same
    cells and summaries as one process classifying them in turn: in a full run, and in an
    incremental one where a base's change reaches its derivatives in a later level."""
    from openness.classification.scale import classify as classify_module

    used = []
    real_runner = classify_module.chunk_runner

    def spy(workers):
        used.append(workers)
        return real_runner(workers)
    monkeypatch.setattr(classify_module, "chunk_runner", spy)
    alone = str(tmp_path / "alone.duckdb")
    shutil.copy(warehouse, alone)
    classify_warehouse(alone, full=True, workers=1)
    classify_warehouse(warehouse, full=True, workers=2, batch_size=2)  # blocks of 16 read, in chunks of 2
    assert used == [1, 2]  # the second run went through a pool of two (the sample world has 31 models)
    assert rows(warehouse, CELLS) == rows(alone, CELLS) and rows(warehouse, SUMMARIES) == rows(alone, SUMMARIES)
    derivative, base = derivative_inheriting_from_a_base(warehouse)
    for path, workers in ((alone, 1), (warehouse, 2)):
        execute(path, f"DELETE FROM findings WHERE model_id = '{base}'")
        result = classify_warehouse(path, workers=workers, batch_size=2)
        assert result.redone.get(changes.BASE, 0) >= 1
    assert rows(warehouse, CELLS) == rows(alone, CELLS) and rows(warehouse, SUMMARIES) == rows(alone, SUMMARIES)


def test_levels_follow_the_chains_and_a_base_feeds_only_a_later_level():
    """Depth 0 for a root, one more than the deepest base otherwise; a cycle and a chain longer than
    MAX_CHAIN are cut. A model is given only the cells of bases of a lower level, so how a level is
    cut into chunks (or shared among workers) never changes what a model sees."""
    from openness.classification.scale.classify import MAX_CHAIN, _chain_depths, _Plan

    long_chain = {f"m{i}": [f"m{i + 1}"] for i in range(3 * MAX_CHAIN)}
    bases = {"a": ["b"], "b": ["a"], "c": ["a"], "d": ["c", "root"], **long_chain}
    models = sorted({m for m in bases} | {b for targets in bases.values() for b in targets})
    depth = _chain_depths(models, bases)
    assert depth["root"] == 0 and depth["c"] == depth["a"] + 1 and depth["d"] == depth["c"] + 1
    assert {depth["a"], depth["b"]} == {1, 2}  # the cycle is cut once, the same way every time
    assert max(depth.values()) <= 3 * MAX_CHAIN and depth == _chain_depths(models, bases)
    plan = _Plan(bases, depth, {m: changes.FULL for m in models}, set(), "run", "v")
    plan.cells_of = {m: {"cells of": m} for m in models}
    for model in models:
        given = plan.base_cells(model)
        assert all(depth[b] < depth[model] for b in given)
        assert set(given) == {b for b in bases.get(model, ()) if depth[b] < depth[model]}


def test_progress_is_reported_chunk_by_chunk_up_to_the_total(warehouse):
    seen = []
    classify_warehouse(warehouse, full=True, workers=1, batch_size=4, progress=lambda done, total: seen.append((done, total)))
    totals = {total for _, total in seen}
    assert len(totals) == 1 and seen[-1][0] == totals.pop() >= 30  # every model read, once
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and len(seen) >= 8  # a chunk at a time


def test_a_progress_bar_only_on_a_terminal():
    import io

    from openness.cli.progress import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    with progress_bar("classify", "models", io.StringIO()) as update:
        assert update is None  # piped, or a job's log: nothing drawn
    screen = Terminal()
    with progress_bar("classify", "models", screen) as update:
        update(5, 10)
        update(10, 10)
    assert "classify" in screen.getvalue() and "10/10" in screen.getvalue()


# A classify process that kills itself (SIGKILL: nothing runs after it) right after its n-th write
# of cells, by the warehouse (a block filled in) or the Python way (a chunk's rows): the points where
# a kill leaves a base's new cells committed and its derivatives not yet looked at.
_KILLED_CLASSIFY = """
import os, signal, sys
from openness.classification.scale import classify as module, fill
path, n = sys.argv[1], int(sys.argv[2])
writes = []
def then_die(write):
    def written(*args, **kwargs):
        done = write(*args, **kwargs)
        writes.append(1)
        if len(writes) >= n:
            os.kill(os.getpid(), signal.SIGKILL)
        return done
    return written
module._replace = then_die(module._replace)
fill.write_block = then_die(fill.write_block)
module.classify_warehouse(path, workers=1, batch_size=4)
"""


def _killed_classify(path: str, writes: int) -> int:
    done = subprocess.run([sys.executable, "-c", _KILLED_CLASSIFY, path, str(writes)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode


def test_a_classify_killed_after_a_base_level_is_made_good_by_the_next_run(warehouse, tmp_path):
    """The kill comes once the changed base's new cells are committed and before its derivatives
    are looked at: the next run redoes what is built on what the killed run wrote."""
    derivative, base = derivative_inheriting_from_a_base(warehouse)
    before = rows(warehouse, "SELECT cells_fp FROM model_summaries WHERE model_id = ?", [derivative])
    execute(warehouse, f"DELETE FROM findings WHERE model_id = '{base}'")
    assert _killed_classify(warehouse, writes=1) == -signal.SIGKILL
    assert rows(warehouse, "SELECT status FROM classify_runs ORDER BY started_at DESC LIMIT 1") == [("running",)]
    assert rows(warehouse, "SELECT cells_fp FROM model_summaries WHERE model_id = ?", [derivative]) == before  # stale
    result = classify_warehouse(warehouse)
    assert result.redone.get(changes.BASE, 0) >= 1
    same_as_a_full_run(warehouse, tmp_path)
    assert rows(warehouse, "SELECT status, count(*) FROM classify_runs GROUP BY ALL ORDER BY ALL") == [
        ("complete", 2), ("interrupted", 1)]  # the fixture's run and this one; the killed one


@pytest.mark.parametrize("writes", [1, 2, 3, 5, 8])
def test_a_classify_killed_at_any_write_then_run_again_equals_a_full_run(warehouse, tmp_path, writes):
    """Killed after its n-th write (bases, derivatives, models of other shapes), or finished first;
    twice in a row for some: the run after equals a full run, byte for byte."""
    derivative, base = derivative_inheriting_from_a_base(warehouse)
    execute(warehouse, f"DELETE FROM findings WHERE model_id = '{base}'",
            "DELETE FROM findings WHERE model_id IN (SELECT model_id FROM latest_models ORDER BY model_id LIMIT 3)")
    _killed_classify(warehouse, writes)
    if writes % 2:
        _killed_classify(warehouse, 1)  # and the next run killed at its first write too
    classify_warehouse(warehouse)
    same_as_a_full_run(warehouse, tmp_path)


_CLASSIFY_WITH_WORKERS = """
import sys
import time
from pathlib import Path
from openness.classification.scale.classify import classify_warehouse
classify_warehouse(sys.argv[1], full=True, workers=2, batch_size=500)
"""


def test_a_killed_classify_takes_its_worker_processes_with_it(tmp_path):
    """Its workers and multiprocessing's resource tracker go within seconds of a SIGKILL to the
    classify process (they once stayed for minutes, ~450 MB each)."""
    from benchmarks.classify import build
    path = str(tmp_path / "w.duckdb")
    build(path, 20000)
    parent = subprocess.Popen([sys.executable, "-c", _CLASSIFY_WITH_WORKERS, path])
    deadline, workers = time.monotonic() + 60, []
    while time.monotonic() < deadline and len(workers) < 3:  # two workers and the resource tracker
        time.sleep(0.1)
        workers = children_of(parent.pid)
        assert parent.poll() is None, "the classification ended before it could be killed"
    assert len(workers) >= 3
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(_running, workers)):
        time.sleep(0.2)
    assert [w for w in workers if _running(w)] == []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
