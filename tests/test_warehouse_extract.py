"""Findings in the warehouse: written by every crawl, re-derived offline by `openness extract`."""
from __future__ import annotations

import json

import duckdb
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import copy_warehouse, is_verbatim, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.pipeline.extract import extract_stored


def crawl(warehouse, server):
    return run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, **world_endpoints(server)))


def findings(warehouse):
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return sorted(con.execute("SELECT finding_id, model_id, sha, signal, value, confidence, evidence "
                                  "FROM findings").fetchall())
    finally:
        con.close()


def test_real_sample_models_get_weights_licence_and_data_findings_with_verbatim_evidence(real_sample, emulator, warehouse):
    crawl(warehouse, emulator(real_sample))
    rows = findings(warehouse)
    models = {r[1] for r in rows}
    assert len(models) == 6
    for model_id in models:
        signals = {r[3] for r in rows if r[1] == model_id}
        assert {"weights.release", "weights.gating", "licence.declared", "data.disclosure"} <= signals, model_id
    checked = 0
    for _, model_id, _, signal, _, _, evidence in rows:
        for item in json.loads(evidence):
            if item["line_start"] is None:
                continue
            raw = (real_sample / "models" / model_id / "files" / item["path"]).read_bytes().decode("utf-8-sig")
            assert is_verbatim(item, raw), (model_id, signal)
            checked += 1
    assert checked >= 6
    gemma = [json.loads(r[4]) for r in rows if r[1] == "mlx-community/gemma-3-4b-it-4bit" and r[3] == "weights.base_model"]
    assert gemma and gemma[0]["ids"]
    disclosure = {r[1]: json.loads(r[4]) for r in rows if r[3] == "data.disclosure"}
    assert disclosure["allenai/OLMo-7B"]["stages"]["pretraining"] == ["dolma"]
    assert disclosure["databricks/dolly-v1-6b"]["stages"]["sft"] == ["alpaca"]


def test_extract_is_idempotent_and_replaces_a_commits_findings(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    from_crawl = [r[:6] for r in findings(warehouse)]
    links_sql = "SELECT model_id, sha, kind, target, url, context, depth FROM model_links ORDER BY ALL"
    links = duckdb.connect(warehouse, read_only=True).execute(links_sql).fetchall()
    first = extract_stored(warehouse)
    assert first.commits == 31 and first.findings == len(from_crawl) and first.errors == 0
    assert [r[:6] for r in findings(warehouse)] == from_crawl
    assert first.links == len(links) > 0  # links are re-derived with the findings, at their depth
    assert duckdb.connect(warehouse, read_only=True).execute(links_sql).fetchall() == links
    con = duckdb.connect(warehouse)
    con.execute("INSERT INTO findings VALUES ('stale', 'basalt/plain-readme-model', "
                "(SELECT sha FROM models WHERE model_id = 'basalt/plain-readme-model'), 'old.signal', '1', 1.0, "
                "'x', '0', '[]', 'r')")
    con.close()
    extract_stored(warehouse, ["basalt/plain-readme-model"])
    assert [r[:6] for r in findings(warehouse)] == from_crawl  # the stale finding is gone


def test_extract_command(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, "extract"])
    assert result.exit_code == 0, result.output
    assert "for 31 commits" in result.output and " links " in result.output and "weights.formats" in result.output
    as_json = json.loads(CliRunner().invoke(cli, ["--warehouse", warehouse, "extract", "--json",
                                                  "--model", "nimbus-ai/nimbus-13b"]).output)
    assert as_json["commits"] == 1 and as_json["by_signal"]["weights.gating"] == 1


DERIVED = {"datasets": ("dataset_id, sha", "licence_ids, licence_findings"),
           "code_repos": ("repo, tree_sha", "licence_ids, licence_findings, roles, role_evidence, doc_findings")}


def derived(warehouse, table):
    keys, columns = DERIVED[table]
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.execute(f"SELECT {keys}, {columns} FROM {table} ORDER BY ALL").fetchall()


def blank_derived_columns(warehouse, table, where="true", **replace):
    """What a crawl under older knowledge would have left: the derived columns empty."""
    columns = ", ".join(f"{value} AS {name}" for name, value in replace.items())
    with duckdb.connect(warehouse) as con:
        con.execute(f"CREATE TEMP TABLE old AS SELECT * REPLACE ({columns}) FROM {table} WHERE {where}")
        con.execute(f"DELETE FROM {table} WHERE {where}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM old")


def test_extract_judges_stored_datasets_and_code_repos_again_as_the_crawl_did(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    from_crawl = {table: derived(warehouse, table) for table in DERIVED}
    assert len(from_crawl["datasets"]) >= 3 and len(from_crawl["code_repos"]) >= 3
    assert any(row[4] for row in from_crawl["code_repos"])  # some roles to re-derive
    blank_derived_columns(warehouse, "datasets", licence_ids="[]::VARCHAR[]", licence_findings="'[]'")
    blank_derived_columns(warehouse, "code_repos", licence_ids="[]::VARCHAR[]", licence_findings="'[]'",
                          roles="[]::VARCHAR[]", role_evidence="'[]'", doc_findings="NULL")
    assert derived(warehouse, "code_repos") != from_crawl["code_repos"]
    result = extract_stored(warehouse)
    assert (result.datasets, result.code_repos) == (len(from_crawl["datasets"]), len(from_crawl["code_repos"]))
    assert {table: derived(warehouse, table) for table in DERIVED} == from_crawl


def test_extract_for_one_model_judges_the_targets_it_links_and_leaves_pathless_trees(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    with duckdb.connect(warehouse, read_only=True) as con:
        model, repo = con.execute("SELECT l.model_id, c.repo FROM model_links l JOIN code_repos c ON c.repo = l.target "
                                  "WHERE l.kind = 'code' AND len(c.roles) > 0 ORDER BY ALL LIMIT 1").fetchone()
        others = con.execute("SELECT count(*) FROM code_repos WHERE repo NOT IN (SELECT target FROM model_links "
                             "WHERE model_id = ? AND kind = 'code')", [model]).fetchone()[0]
    from_crawl = derived(warehouse, "code_repos")
    blank_derived_columns(warehouse, "code_repos", roles="[]::VARCHAR[]", role_evidence="'[]'")
    one = extract_stored(warehouse, [model])
    assert one.code_repos >= 1 and one.code_repos + others == len(from_crawl)
    assert [r for r in derived(warehouse, "code_repos") if r[0] == repo] == [r for r in from_crawl if r[0] == repo]
    # a tree crawled before its paths were kept keeps its columns, and is counted
    blank_derived_columns(warehouse, "code_repos", f"repo = '{repo}'", paths="NULL::VARCHAR[]", roles="['x']")
    again = extract_stored(warehouse, [model])
    assert again.code_repos_without_paths == 1
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT roles FROM code_repos WHERE repo = ?", [repo]).fetchall() == [(["x"],)]
    shown = CliRunner().invoke(cli, ["--warehouse", warehouse, "extract", "--model", model])
    assert "1 crawled before their file lists were kept" in shown.output
