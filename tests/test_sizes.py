"""Weight sizes and LFS sha256 from a HEAD per file (resolvers bucket) equal those from the file tree
(api bucket); the crawl takes trees while the api bucket has room and HEADs when it has none; the
emulator answers HEAD of an LFS file as the Hub does, for the unmodified huggingface_hub client."""
from __future__ import annotations

import pytest
from huggingface_hub import get_hf_file_metadata, hf_hub_url

from conftest import request_log, rows, world_endpoints
from openness.crawler.sizes import BucketLoad, file_row_from_head, size_source, weight_paths
from openness.pipeline.runner import CrawlConfig, run_crawl

WEIGHTS = """SELECT f.model_id, f.path, f.size, f.lfs_sha256 FROM repo_files f JOIN latest_models USING (model_id, sha)
             WHERE regexp_matches(f.path, '\\.(safetensors|bin|gguf|pt|pth|onnx|h5|msgpack|ckpt)$') ORDER BY ALL"""


def crawl(warehouse, server, via, **options):
    settings = {"WEB_DELAY": 0.0, "CRAWL_FILE_SIZES_VIA": via, "RETRY_BACKOFF_BASE": 0.01,
                "HUB_TIME_SCALE": server.time_scale}
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0, settings=settings,
                                 **{**world_endpoints(server), **options}))


def test_the_emulator_answers_head_of_an_lfs_file_as_the_hub_does(sample_world, emulator):
    server = emulator(sample_world)
    url = hf_hub_url("aurora-labs/aurora-7b", "model-00001-of-00003.safetensors", endpoint=server.base_url)
    meta = get_hf_file_metadata(url, token=False)
    assert meta.size == 4900000000
    assert meta.etag == "5ad69513255ff2a908764810f637e8101d9597518dea1521263c1d7985445e26"
    assert meta.commit_hash and meta.location.startswith("https://cdn-lfs")


def test_head_sizes_equal_tree_sizes(sample_world, emulator, tmp_path):
    server = emulator(sample_world)
    by_tree, by_head = str(tmp_path / "tree.duckdb"), str(tmp_path / "head.duckdb")
    tree = crawl(by_tree, server, "tree", sizes_now=True)
    head = crawl(by_head, server, "head", sizes_now=True)
    assert tree.status == head.status == "complete"
    from_tree, from_head = rows(by_tree, WEIGHTS), rows(by_head, WEIGHTS)
    assert from_tree == from_head and len(from_tree) >= 5
    # the whole table: which way a crawl took never shows in the warehouse
    every_file = "SELECT model_id, sha, path, size, lfs_sha256, blob_id FROM repo_files ORDER BY ALL"
    assert rows(by_tree, every_file) == rows(by_head, every_file)
    assert any(sha for *_, sha in from_head) and all(size for _, _, size, _ in from_head if size is not None)
    # the same weights findings either way (the total size is read from these rows)
    findings = "SELECT model_id, signal, value FROM findings WHERE signal LIKE 'weights.%' ORDER BY ALL"
    assert rows(by_tree, findings) == rows(by_head, findings)
    assert head.requests["api"] < tree.requests["api"]  # the HEADs spent the resolvers bucket instead


def test_with_a_scarce_api_bucket_both_ways_are_used(sample_world, emulator, warehouse):
    # which ways are used is the logic here, not the pacing: the windows run at a fifth
    server = emulator(sample_world, rate_limit="api=6/3,resolvers=600/3", time_scale=0.2)
    result = crawl(warehouse, server, "auto", sizes_now=True)
    assert result.status == "complete" and "rate_limited" not in result.failures
    log = request_log(server)
    heads = [r for r in log if r.get("method") == "HEAD"]
    trees = [r for r in log if "/tree/" in r["path"]]
    assert heads and trees, "both sources were used"


API, RESOLVERS = 1 / 5, 1 / 30  # seconds per request: the Hub's anonymous quotas' ratio


@pytest.mark.parametrize("weights,gated,via,committed,api,expected", [
    (0, False, "auto", (0, 0), API, None),         # no weight files: nothing to ask
    (2, False, "auto", (10, 0), API, "head"),      # the api bucket has more queued: HEADs end sooner
    (2, False, "auto", (0, 10), API, "tree"),      # the resolvers have more queued: one api request
    (2, False, "auto", (0, 0), 0.0, "tree"),       # no api limit: a tree costs nothing there
    (1, True, "auto", (10, 0), API, "tree"),       # gated weights answer HEAD with 401
    (1, False, "tree", (10, 0), API, "tree"),
    (1, False, "head", (0, 10), API, "head"),
    (1, True, "head", (0, 10), API, "tree"),
])
def test_size_source_when_sizes_are_read_now(weights, gated, via, committed, api, expected):
    load = {"api": float(committed[0]), "resolvers": float(committed[1])}
    assert size_source(weights, gated, via, 1, load, {"api": api, "resolvers": RESOLVERS}, now=True) == expected


@pytest.mark.parametrize("weights,gated,committed,windows,first_window,expected", [
    (2, False, (0, 10), 0, True, "tree"),          # the api bucket idles behind the resolvers: a tree fits
    (2, False, (10, 0), 0, True, "head"),          # the resolvers idle behind the api bucket: HEADs fit
    (2, False, (0, 0), 0, True, "pending"),        # nothing queued: any request pushes back the end
    (2, False, (0, 0), 300, True, "tree"),         # within the api window's quota: it is there at once
    (2, False, (0, 0), 300, False, "pending"),     # ... unless listing pages are to spend it
    (2, False, (299.9, 0), 300, True, "pending"),  # that quota spent; the resolvers' is the documents'
    (2, False, (400, 0), 300, False, "head"),      # a long re-crawl's listing: HEADs in the idle resolvers
    (2, True, (10, 0), 0, True, "pending"),        # gated: a tree or nothing
    (8, False, (10, 9.9), 0, True, "pending"),     # eight HEADs and a document would end after the api bucket
    (1, False, (10.0, 10.0), 0, True, "pending"),  # both equally busy: either way ends later
])
def test_size_source_from_spare_capacity(weights, gated, committed, windows, first_window, expected):
    load = {"api": float(committed[0]), "resolvers": float(committed[1])}
    documents = 0 if committed == (400, 0) else 1
    assert size_source(weights, gated, "auto", documents, load, {"api": API, "resolvers": RESOLVERS},
                       {"api": float(windows), "resolvers": float(windows)}, first_window=first_window) == expected


class Budget:
    """The rate middleware's view of a budget in the Hub's ratio (5 api and 30 resolver requests a
    second), over windows of this many seconds (0: no quota there at once)."""

    def __init__(self, window=20.0):
        self.seconds = window

    def rate(self, bucket):
        return {"api": 5.0, "resolvers": 30.0}[bucket]

    def window(self, bucket):
        return self.seconds


def test_the_buckets_end_together_when_sizes_are_read_now():
    """Models of two weight files and one document at the Hub's ratio: trees for the share that
    keeps both buckets equally busy (5 x 3 / (30 + 5 x 2) = 37.5%), the rest HEADs."""
    load = BucketLoad()
    chosen = [load.choose(2, 1, False, "auto", Budget(window=0.0), now=True) for _ in range(400)]
    assert 0.33 < chosen.count("tree") / 400 < 0.42
    assert abs(load.committed["api"] - load.committed["resolvers"]) < 0.5


def test_from_spare_capacity_the_resolvers_bucket_alone_sets_the_pace():
    """By default a tree is sent only while the api bucket has less queued than the resolvers (one
    model in six at the Hub's ratio, one document a model), never a HEAD: the crawl ends when its
    documents are read, and the rest wait for later."""
    load, budget = BucketLoad(), Budget()
    chosen = [load.choose(2, 1, False, "auto", budget) for _ in range(6000)]
    assert chosen.count("head") == 0
    # a tree for one model in six (the first 100 in the api bucket's first window, while the
    # documents spend the resolvers')
    assert chosen[:100] == ["tree"] * 100 and chosen.count("tree") == pytest.approx(6000 / 6, abs=2)
    assert chosen.count("pending") + chosen.count("tree") == 6000
    resolvers_end = 6000 * RESOLVERS
    assert load.committed["resolvers"] == pytest.approx(resolvers_end)  # only the documents
    assert load.committed["api"] <= resolvers_end + API  # the trees did not push back the end
    # a peek does not count: asking twice without committing gives the same answer
    before = dict(load.committed)
    assert load.choose(2, 1, False, "auto", budget, commit=False) == load.choose(2, 1, False, "auto", budget, commit=False)
    assert load.committed == before


def test_weight_paths_and_head_answers():
    assert weight_paths(["README.md", "model.safetensors", "model.safetensors.index.json", "x/adapter_model.bin"]) \
        == ["model.safetensors", "x/adapter_model.bin"]
    lfs = file_row_from_head("m", "s", "w.bin", 302, {"x-linked-size": "12", "x-linked-etag": '"ab"', "etag": '"ab"'})
    assert (lfs["size"], lfs["lfs_sha256"], lfs["blob_id"]) == (12, "ab", None)
    plain = file_row_from_head("m", "s", "w.bin", 200, {"content-length": "7", "etag": 'W/"0f"'})
    assert (plain["size"], plain["lfs_sha256"], plain["blob_id"]) == (7, None, "0f")
    assert file_row_from_head("m", "s", "w.bin", 401, {"content-length": "7"}) is None
