"""Data-driven cases of the taxonomy's rules (tests/cases/classify/*.yml): a card and files in (and
what its links led to: repos, datasets, base models given as cards of their own), the expected
cells out.

    model_id, info, files, documents      as in the extractor cases
    repos: {github.com/o/r: {status, reason, transient, roles, licence_ids, host_licence, model_licences,
            covers_models, role_evidence}}                                 what following found
            documents: {path: [findings]}                                  its model documents' findings
    papers: {arxiv:ID: {status, hub_page, github_repo}}                    what the papers' Hub pages said
    datasets: {dataset id: [licence ids]}                                  linked datasets' licences
    bases: {base id: {info, files, documents, ...}}                        classified first, recursively
    expect: {component key: label, or {label, reason, points, licences: [ids], inherited_from}}
    frameworks: {mof_class, mof_missing, osaid, osaid_missing}                optional
"""
from __future__ import annotations

import json

import pytest

from casefiles import cases
from openness.extractors import Document, ModelRecord, extract_all
from openness.classification.taxonomy.dossier import Paper, build_dossier
from openness.classification.taxonomy.engine import classify
from openness.classification.taxonomy.frameworks import verdicts
from openness.classification.taxonomy.rules import COMPONENT_KEYS, rules

CASES = cases("classify")


def cells_of(case: dict) -> dict:
    model_id = case["model_id"]
    docs = {p: Document(p, f"https://hub.example/{model_id}/resolve/abc/{p}", text)
            for p, text in (case.get("documents") or {}).items()}
    files = case.get("files") or [{"path": p} for p in docs]
    record = ModelRecord(model_id, "abc", case.get("info") or {}, files, docs, f"https://hub.example/api/models/{model_id}")
    findings = [{**row, "value": json.loads(row["value"]), "evidence": json.loads(row["evidence"])}
                for row in (f.as_row() for f in extract_all(record))]
    bases = {base: cells_of({"model_id": base, **sub})[0] for base, sub in (case.get("bases") or {}).items()}
    papers = [Paper(f"arxiv:{f['value']['id']}", f["value"].get("relevance", "own"),
                    **(case.get("papers") or {}).get(f"arxiv:{f['value']['id']}", {}))
              for f in findings if f["signal"] == "paper.arxiv"]
    paper_repos = {f"github.com/{p.github_repo.lower()}": p.paper_id for p in papers
                   if p.relevance == "own" and p.github_repo}
    card_status = case.get("card_status", "ok") if "README.md" in docs else "no_readme"
    dossier = build_dossier(model_id, "abc", record.info, findings, case.get("repos") or {}, paper_repos,
                            case.get("datasets") or {}, bases, card_status, papers)
    return classify(dossier, rules()), dossier


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_case(case):
    cells, dossier = cells_of(case)
    assert list(cells) == list(COMPONENT_KEYS)
    for key, expected in case["expect"].items():
        cell = cells[key]
        expected = {"label": expected} if isinstance(expected, str) else expected
        got = {"label": cell.label, "reason": cell.reason, "points": cell.points,
               "licences": sorted({l["id"] for l in cell.licences if l["id"]}), "inherited_from": cell.inherited_from}
        assert {k: got[k] for k in expected} == expected, (key, cell)
    if "frameworks" in case:
        found = verdicts(cells, dossier, rules().frameworks)
        assert {k: found[k] for k in case["frameworks"]} == case["frameworks"], found
    mentions = {r.target for r in dossier.repos if r.relevance == "mention"}
    for cell in cells.values():  # an open cell (4-5) never rests on a mention
        if cell.level is not None and cell.level >= 4:
            assert not any(l["source"].split(" ")[0] in mentions for l in cell.licences), cell
    for cell in cells.values():  # every cell says why; a level comes with the evidence for it, or
        # (not found) with the search that found nothing
        assert cell.reason and 0 <= cell.confidence <= 1
        if cell.level is not None and cell.reason != "inherited":
            assert cell.finding_ids or cell.evidence or (cell.reason == "not_found" and cell.search), cell


def test_there_are_cases():
    assert len(CASES) >= 40
