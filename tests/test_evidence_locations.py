"""Evidence is where it is, not where it was read from (issue 32): a crawl of an emulator stores the
repo, revision, path and lines, never the emulator's port; addresses are built from those, for the
public Hub when stored and for the endpoint in use when printed (SPDX, report)."""
from __future__ import annotations

import json

import pytest

from conftest import copy_warehouse, rows
from openness.classification.scale.classify import classify_warehouse
from openness.extractors.locations import evidence_url, file_url, info_url, repo_url
from openness.outputs.spdx import export_spdx


def test_addresses_are_built_from_repo_revision_path_and_lines():
    assert file_url("model", "o/m", "abc", "README.md", 3) == "https://huggingface.co/o/m/blob/abc/README.md#L3"
    assert file_url("model", "o/m", "abc", "README.md", 3, 5) == "https://huggingface.co/o/m/blob/abc/README.md#L3-L5"
    assert file_url("dataset", "o/d", "abc", "LICENSE") == "https://huggingface.co/datasets/o/d/blob/abc/LICENSE"
    assert file_url("code", "github.com/o/r", "tree1", "train.py", 9) == "https://github.com/o/r/blob/HEAD/train.py#L9"
    assert info_url("model", "o/m", "abc", "http://mirror.example/") == "http://mirror.example/api/models/o/m/revision/abc"
    assert repo_url("dataset", "o/d") == "https://huggingface.co/datasets/o/d"
    stored = {"source": "model", "repo": "o/m", "revision": "abc", "path": "README.md", "line_start": 2, "line_end": 2}
    assert evidence_url(stored, "http://mirror.example") == "http://mirror.example/o/m/blob/abc/README.md#L2"
    assert evidence_url({**stored, "path": None}) == "https://huggingface.co/api/models/o/m/revision/abc"
    # evidence stored before it kept its repo: its stored address as it is
    assert evidence_url({"url": "http://127.0.0.1:9/o/m/resolve/abc/README.md", "path": "README.md"}) \
        == "http://127.0.0.1:9/o/m/resolve/abc/README.md"


@pytest.fixture(scope="module")
def classified(sample_crawled, tmp_path_factory):
    warehouse = copy_warehouse(sample_crawled[0], str(tmp_path_factory.mktemp("located") / "openness.duckdb"))
    classify_warehouse(warehouse)
    return warehouse


def test_nothing_stored_names_the_endpoint_the_crawl_read(classified):
    for table, column in (("findings", "evidence"), ("classifications", "evidence"), ("model_links", "url"),
                          ("datasets", "licence_findings"), ("code_repos", "licence_findings")):
        assert rows(classified, f"SELECT count(*) FROM {table} WHERE {column}::VARCHAR LIKE '%127.0.0.1%'") == [(0,)], table
    findings = rows(classified, "SELECT model_id, sha, evidence FROM findings")
    assert findings
    for model_id, sha, evidence in findings:
        for entry in json.loads(evidence):
            assert (entry["source"], entry["repo"], entry["revision"]) == ("model", model_id, sha)
            assert entry["url"] == evidence_url(entry) and entry["url"].startswith("https://huggingface.co/")


def test_a_followed_repos_evidence_names_that_repo(classified):
    for table, key, ref, source in (("datasets", "dataset_id", "sha", "dataset"), ("code_repos", "repo", "tree_sha", "code")):
        found = rows(classified, f"SELECT {key}, {ref}, licence_findings FROM {table} WHERE licence_findings <> '[]'")
        assert found, table
        for repo, revision, findings in found:
            for finding in json.loads(findings):
                for entry in finding["evidence"]:
                    assert (entry["source"], entry["repo"], entry["revision"]) == (source, repo, revision)


@pytest.mark.parametrize("endpoint", ["https://huggingface.co", "https://hub.mirror.example"])
def test_spdx_gives_the_addresses_of_the_endpoint_in_use(classified, tmp_path, endpoint):
    written = export_spdx(classified, tmp_path, ["aurora-labs/aurora-7b"], endpoint=endpoint)
    text = "".join(open(path, encoding="utf-8").read() for path in written.files.values())
    assert "127.0.0.1" not in text
    assert f"evidence: {endpoint}/aurora-labs/aurora-7b/blob/" in text


def test_a_dataset_the_cells_read_a_licence_for_is_never_noassertion_in_spdx(classified, tmp_path):
    read = {}
    resolved = dict(rows(classified, "SELECT target, coalesce(resolved_id, target) FROM link_targets "
                                     "WHERE kind = 'dataset'"))
    for model_id, licences in rows(classified, "SELECT model_id, licences FROM latest_classifications "
                                               "WHERE inherited_from IS NULL"):  # a base's datasets are its own
        for licence in json.loads(licences or "[]"):
            if (licence.get("source") or "").startswith("dataset ") and licence.get("id"):
                written = licence["source"].split(" ")[1]
                read.setdefault(model_id, set()).add(resolved.get(written, written))
    assert read  # the sample's cards name datasets the knowledge base knows
    written = export_spdx(classified, tmp_path, sorted(read))
    checked = 0
    for model_id, path in written.files.items():
        packages = {p["name"]: p for p in json.load(open(path, encoding="utf-8"))["packages"]
                    if p["SPDXID"].startswith("SPDXRef-Dataset")}
        for dataset in read[model_id]:
            assert packages[dataset]["licenseConcluded"] != "NOASSERTION", (model_id, dataset)
            checked += 1
    assert checked >= 3
