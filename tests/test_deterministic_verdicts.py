"""The same warehouse classified twice gives the same bytes, whatever order rows or bases come in
(issue: ties between a merge's bases and between a repo's complete and incomplete rows fell to
chance)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import yaml

from conftest import copy_warehouse
from openness.classification.scale.classify import classify_warehouse
from openness.classification.taxonomy.engine import classify
from openness.classification.taxonomy.rules import rules

CASES = Path(__file__).parent / "cases" / "classify"


def cells_json(cells) -> str:
    return json.dumps({k: dataclasses.asdict(c) for k, c in cells.items()}, sort_keys=True, default=str)


def test_a_merge_of_equally_open_bases_is_decided_by_a_stable_key_not_by_their_order():
    from test_taxonomy_cases import cells_of
    case = yaml.safe_load((CASES / "merge-least-open-base-decides.yml").read_text("utf-8"))
    open_base = case["bases"]["case/open-base"]
    case["bases"] = {"case/zz-open-twin": open_base, "case/open-base": open_base}  # equal cells, two names
    _, dossier = cells_of(case)
    forward = cells_json(classify(dossier, rules()))
    dossier.bases = dict(reversed(list(dossier.bases.items())))
    assert cells_json(classify(dossier, rules())) == forward
    inherited = {c["inherited_from"] for c in json.loads(forward).values() if c["reason"] == "inherited"}
    assert inherited == {"case/open-base"}  # the first by name of the equally open bases


def classifications(warehouse) -> list[tuple]:
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (run_id) FROM classifications ORDER BY model_id, sha, component").fetchall()


def test_classifying_twice_gives_the_same_bytes_and_incomplete_repo_rows_are_never_read(sample_crawled, warehouse):
    copy_warehouse(sample_crawled[0], warehouse)  # the sample world crawled, once a session
    classify_warehouse(warehouse)
    first = classifications(warehouse)
    classify_warehouse(warehouse)
    assert classifications(warehouse) == first
    with duckdb.connect(warehouse) as con:
        repos = con.execute("SELECT count(*) FROM code_repos WHERE complete AND roles <> []").fetchone()[0]
        assert repos > 0
        # a later, incomplete fetch of every repo that found nothing (a fetch cut short by faults):
        # newer than the complete row, yet never read while a complete one exists
        con.execute("""INSERT INTO code_repos BY NAME
            SELECT * REPLACE ('ffff' || tree_sha AS tree_sha, false AS complete, [] AS roles, [] AS licence_ids,
                              NULL AS host_licence, pushed_at + INTERVAL 1 DAY AS pushed_at)
            FROM code_repos WHERE complete""")
    classify_warehouse(warehouse)
    assert classifications(warehouse) == first
