"""Weight sizes left pending (issue 18): a first crawl bound by the resolvers bucket reads weight
sizes only from the api bucket's spare capacity and records the rest as pending; an unchanged
re-crawl stays listing pages only; a crawl with --sizes-now, `audit` and `export --spdx` read
them, and what they store equals what a crawl that read every size at once stores. (Which
bucket has room when is crawler/sizes.py's, tested in test_sizes.py.)"""
from __future__ import annotations

import json

import duckdb
from click.testing import CliRunner

from conftest import request_log, rows, world_endpoints
from openness.classification.scale.classify import classify_warehouse
from openness.cli.main import cli
from openness.pipeline.audit import audit
from openness.pipeline.runner import CrawlConfig, run_crawl

# The Hub's ratio of resolvers to api requests made extreme: three api requests in a 2-second
# window (a listing page and two trees), 600 resolver requests.
SCARCE_API = "api=3/2,resolvers=600/2"
# Which bucket has room when is the logic under test, not the pacing: the windows run at a fifth of
# their length, on the emulator and in the crawl alike (tests/test_crawl_reliability.py holds the
# pacing at full length).
SCALE = 0.2
PENDING = "SELECT model_id, sizes_pending FROM latest_models WHERE sizes_pending > 0 ORDER BY 1"
WEIGHTS = ("SELECT f.model_id, f.path, f.size, f.lfs_sha256, f.blob_id FROM repo_files f "
           "JOIN latest_models USING (model_id, sha) WHERE f.size IS NOT NULL ORDER BY ALL")
FINDINGS = "SELECT model_id, sha, signal, value, evidence FROM findings ORDER BY ALL"


def crawl(warehouse, server, **options):
    settings = {"WEB_DELAY": 0.0, "RETRY_BACKOFF_BASE": 0.01, "HUB_TIME_SCALE": SCALE}
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0, settings=settings,
                                 **{**world_endpoints(server), **options}))


def requests_since(server, seen: int) -> list[dict]:
    return request_log(server)[seen:]


def only_listing_pages(log: list[dict]) -> bool:
    return bool(log) and all(r["path"].startswith("/api/models") and "/tree/" not in r["path"]
                             and r.get("method", "GET") == "GET" for r in log)


def test_sizes_left_pending_are_read_later_and_equal_those_read_at_once(sample_world, emulator, tmp_path):
    server = emulator(sample_world, rate_limit=SCARCE_API, time_scale=SCALE)
    later, at_once = str(tmp_path / "later.duckdb"), str(tmp_path / "once.duckdb")

    first = crawl(later, server)
    assert first.status == "complete" and first.budget["api"] == "3/2 (server)"
    assert first.sizes_by["pending"] >= 5 and first.sizes_by.get("tree", 0) >= 1 and "head" not in first.sizes_by
    pending = rows(later, PENDING)
    assert len(pending) == first.sizes_by["pending"]
    # a pending model's weights are listed by path, without sizes, and no total size is claimed
    pending_ids = [m for m, _ in pending]
    sized = {m for m, *_ in rows(later, WEIGHTS)}
    assert not sized & set(pending_ids)
    totals = {m for (m,) in rows(later, "SELECT model_id FROM findings WHERE signal = 'weights.total_size'")}
    assert not totals & set(pending_ids)

    seen = len(request_log(server))
    again = crawl(later, server)  # unchanged: its listing page fits in the api bucket's first window
    assert again.models_unchanged == first.models_seen and again.sizes_revisited == 0
    assert only_listing_pages(requests_since(server, seen))

    rest = crawl(later, server, sizes_now=True)  # whatever it costs
    assert rest.sizes_revisited == len(pending) and rest.files_fetched == 0  # only the sizes are read
    asked = requests_since(server, seen)
    assert not [r for r in asked if "/resolve/" in r["path"] and r.get("method", "GET") == "GET"]
    assert rows(later, PENDING) == []

    crawl(at_once, server, sizes_now=True)
    assert rows(later, WEIGHTS) == rows(at_once, WEIGHTS)
    assert rows(later, FINDINGS) == rows(at_once, FINDINGS)  # the total sizes found, like the rest

    seen = len(request_log(server))
    crawl(later, server)  # unchanged, nothing pending
    assert only_listing_pages(requests_since(server, seen))


def test_sizes_now_reads_what_earlier_crawls_left(sample_world, emulator, warehouse):
    server = emulator(sample_world, rate_limit=SCARCE_API, time_scale=SCALE)
    crawl(warehouse, server, fetch_file_sizes=False)
    pending = rows(warehouse, PENDING)  # recorded even when the crawl was told to read no sizes
    assert len(pending) >= 5
    seen = len(request_log(server))
    told_not_to = crawl(warehouse, server, fetch_file_sizes=False)
    assert told_not_to.sizes_revisited == 0 and only_listing_pages(requests_since(server, seen))
    now = crawl(warehouse, server, sizes_now=True)
    assert now.sizes_revisited == len(pending) and now.models_new == now.models_changed == 0
    assert now.status == "complete" and rows(warehouse, PENDING) == []


def test_audit_reads_the_pending_sizes_of_what_it_explains(sample_world, emulator, warehouse):
    server = emulator(sample_world, rate_limit=SCARCE_API, time_scale=SCALE)
    crawl(warehouse, server, fetch_file_sizes=False)
    model = "aurora-labs/aurora-7b"
    assert model in dict(rows(warehouse, PENDING))
    result = audit(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0, settings={"HUB_TIME_SCALE": SCALE},
                               **world_endpoints(server)),
                   [model])
    assert result.crawl.sizes_revisited == 1 and model not in dict(rows(warehouse, PENDING))
    sizes = [size for m, _, size, *_ in rows(warehouse, WEIGHTS) if m == model]
    assert len(sizes) == 3 and 4900000000 in sizes
    total = rows(warehouse, "SELECT value FROM findings f JOIN latest_models USING (model_id, sha) "
                            "WHERE f.model_id = ? AND signal = 'weights.total_size'".replace("?", f"'{model}'"))
    assert [json.loads(value) for (value,) in total] == [sum(sizes)]


def test_export_spdx_reads_pending_sizes_first(sample_world, emulator, warehouse, tmp_path):
    server = emulator(sample_world, rate_limit=SCARCE_API, time_scale=SCALE)
    crawl(warehouse, server, fetch_file_sizes=False)
    classify_warehouse(warehouse)
    model = "aurora-labs/aurora-7b"
    runner = CliRunner()
    runs = len(rows(warehouse, "SELECT run_id FROM crawl_runs"))

    skipped = runner.invoke(cli, ["--warehouse", warehouse, "export", "--spdx", str(tmp_path / "a"), "--model", model,
                                  "--no-read-pending-sizes"])
    assert skipped.exit_code == 0, skipped.output
    assert len(rows(warehouse, "SELECT run_id FROM crawl_runs")) == runs
    assert not _weight_checksums(tmp_path / "a")

    read = runner.invoke(cli, ["--warehouse", warehouse, "export", "--spdx", str(tmp_path / "b"), "--model", model])
    assert read.exit_code == 0, read.output
    assert "weight sizes read for 1 of 1 models that had them pending" in read.stderr
    assert len(_weight_checksums(tmp_path / "b")) == 3  # each shard's LFS sha256
    assert model not in dict(rows(warehouse, PENDING))


def test_export_spdx_writes_what_it_knows_when_the_hub_cannot_be_reached(sample_world, emulator, warehouse, tmp_path):
    server = emulator(sample_world)
    crawl(warehouse, server, fetch_file_sizes=False)
    classify_warehouse(warehouse)
    with duckdb.connect(warehouse) as con:  # as if crawled from a Hub that is gone now
        con.execute("UPDATE crawl_runs SET endpoint = 'http://127.0.0.1:9'")
    model = "aurora-labs/aurora-7b"
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, "export", "--spdx", str(tmp_path / "c"),
                                      "--model", model])
    assert result.exit_code == 0, result.output
    assert "could not read pending weight sizes from http://127.0.0.1:9" in result.stderr
    assert (tmp_path / "c" / "aurora-labs__aurora-7b.spdx.json").exists()
    assert model in dict(rows(warehouse, PENDING))


def _weight_checksums(folder) -> list[str]:
    documents = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    return [c["checksumValue"] for d in documents for p in d["packages"] if p["SPDXID"].startswith("SPDXRef-Weights")
            for c in p.get("checksums", [])]


def test_the_crawl_summary_says_what_was_left_pending():
    from openness.cli.formatting import crawl_summary
    from openness.pipeline.runner import CrawlResult
    text = crawl_summary(CrawlResult(run_id="r", status="complete", files_fetched=40,
                                     sizes_by={"tree": 2, "pending": 17, "none": 3}, sizes_revisited=4))
    files = next(line for line in text.splitlines() if line.startswith("files"))
    assert files == ("files    40 fetched; weight sizes read by tree 2; 17 models' weight sizes left pending for "
                     "spare capacity (audit, export --spdx and crawl --sizes-now read them); pending weight sizes "
                     "of 4 unchanged models read")
