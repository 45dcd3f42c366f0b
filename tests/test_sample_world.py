"""Each broken or unusual input of the bundled sample world ends in a recorded, explained outcome."""
from __future__ import annotations

import json

import duckdb
import pytest

from conftest import world_endpoints
from openness.pipeline.demo import UNLISTED
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.emulator import sample_world_path, serving


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sample") / "openness.duckdb")
    with serving(sample_world_path()) as server:
        options = {"warehouse": path, "use_token": False, **world_endpoints(server),
                   "settings": {"CRAWL_MAX_DOCUMENT_BYTES": 1_000_000}}
        listing = run_crawl(CrawlConfig(**options))
        by_id = run_crawl(CrawlConfig(model_ids=list(UNLISTED), **options))
    con = duckdb.connect(path, read_only=True)
    yield con, listing, by_id
    con.close()


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def test_summary_counts(crawled):
    con, listing, by_id = crawled
    assert listing.status == "complete" and listing.models_new == 31
    assert listing.failures == {"gated": 2, "bad_field": 1, "not_in_snapshot": 1}
    assert by_id.failures == {"not_found": 2, "disabled": 1, "renamed": 1}
    assert one(con, "SELECT count(*) FROM models")[0] == 31


@pytest.mark.parametrize("model_id,card_status", [
    ("aurora-labs/aurora-7b", "ok"),
    ("basalt/untitled-checkpoint", "no_readme"),
    ("basalt/plain-readme-model", "no_metadata"),
    ("basalt/broken-yaml-model", "invalid_metadata"),
    ("basalt/list-yaml", "invalid_metadata"),
    ("basalt/empty-readme", "no_metadata"),
    ("tinystack/crlf-model", "ok"),
    ("quillwork/modele-francais", "ok"),
])
def test_card_outcomes(crawled, model_id, card_status):
    con, _, _ = crawled
    status, error = one(con, "SELECT card_status, card_error FROM models WHERE model_id = ?", model_id)
    assert status == card_status
    assert (error is not None) == (card_status == "invalid_metadata")


def test_documents_keep_encoding_size_and_truncation(crawled):
    con, _, _ = crawled
    assert one(con, "SELECT encoding FROM documents WHERE model_id = 'quillwork/modele-francais'")[0] == "cp1252"
    assert "Entraîné" in one(con, "SELECT text FROM documents WHERE model_id = 'quillwork/modele-francais'")[0]
    size, truncated, length = one(con, "SELECT size_bytes, truncated, length(text) FROM documents "
                                       "WHERE model_id = 'openfield/verbose-model'")
    assert size > 1_000_000 and truncated and length <= 1_000_000
    text, encoding = one(con, "SELECT text, encoding FROM documents WHERE path = 'LICENSE.pdf'")
    assert text is None and encoding is None
    crlf = one(con, "SELECT text FROM documents WHERE model_id = 'tinystack/crlf-model'")[0]
    assert "\r\n" in crlf and not crlf.startswith("\ufeff")


def test_licence_files_and_links_are_fetched(crawled):
    con, _, _ = crawled
    paths = lambda m: {r[0] for r in con.execute("SELECT path FROM documents WHERE model_id = ?", [m]).fetchall()}  # noqa: E731
    assert paths("lumen-collective/lumen-diffusion-xl") == {"README.md", "LICENSE.md", "NOTICE"}
    assert paths("openfield/gpl-embedder") == {"README.md", "docs/LICENSE-GPL.txt", "COPYING"}
    assert paths("kestrel-ml/llama-3.1-8b-dpo") == {"README.md", "LICENSE", "USE_POLICY.md"}
    assert len(paths("parrotfish/licence-flood")) == 1 + 12
    assert paths("nimbus-ai/nimbus-13b") == {"README.md"}  # gated: the rest is recorded as gated
    gated = {r[0] for r in con.execute("SELECT path FROM fetch_failures WHERE reason = 'gated'").fetchall()}
    assert gated == {"LICENSE", "USE_POLICY.md"}


def test_model_rows_carry_what_the_listing_gave(crawled):
    con, _, _ = crawled
    gated, licence, card, safetensors, tags = one(
        con, "SELECT gated, license, card_data, safetensors, tags FROM models WHERE model_id = 'nimbus-ai/nimbus-13b'")
    assert gated == "manual" and licence == "other"
    assert json.loads(card)["extra_gated_eu_disallowed"] is True
    assert json.loads(safetensors)["total"] == 13_015_864_320
    assert "license:other" in tags
    assert one(con, "SELECT gated FROM models WHERE model_id = 'cedar-research/gemma-2-2b-cedar-sft'")[0] == "auto"
    files = con.execute("SELECT path, size, lfs_sha256 FROM repo_files WHERE model_id = 'aurora-labs/aurora-7b' "
                        "AND path LIKE 'model-0%' ORDER BY path").fetchall()
    assert [(p, s) for p, s, _ in files] == [(f"model-0000{i}-of-00003.safetensors", 4_900_000_000) for i in (1, 2, 3)]
    assert all(len(h) == 64 for _, _, h in files)


def test_failures_explain_themselves(crawled):
    con, _, _ = crawled
    rows = con.execute("SELECT model_id, reason, status, message, transient FROM fetch_failures").fetchall()
    for model_id, reason, status, message, transient in rows:
        assert reason and message, (model_id, reason)
        assert not transient
    model_id, message = one(con, "SELECT model_id, message FROM fetch_failures WHERE reason = 'bad_field'")
    assert model_id == "basalt/bad-date" and "'2024-05-01T00:00:00+00:00' written as 2024-05-01T00:00:00.000Z" in message
    assert one(con, "SELECT last_modified FROM models WHERE model_id = 'basalt/bad-date'")[0].isoformat() == "2024-05-01T00:00:00"
