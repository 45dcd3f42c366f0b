"""The derived columns of what models link to: a dataset's licences, a code repository's roles,
licences and model-document findings. Pure, like every extractor: the harvest writes them at crawl
time and `openness extract` writes them again from the stored files after the knowledge changed."""
from __future__ import annotations

import json
from dataclasses import asdict

from openness.extractors import licenses
from openness.extractors.base import Document, Finding, ModelRecord
from openness.extractors.code_repos import (RepoFiles, document_findings, evidence_rows, identified_licences,
                                            licence_findings, roles)


def dataset_columns(payload: dict, documents: list[dict]) -> dict:
    """A dataset commit's licences, from its payload (card data, tags, siblings) and its fetched
    files (documents: rows with path, url and text)."""
    siblings = [s.get("rfilename") for s in _list(payload.get("siblings")) if isinstance(s, dict)]
    record = ModelRecord(payload["id"], payload["sha"], payload, [{"path": p} for p in siblings if isinstance(p, str)],
                         _documents(documents), kind="dataset")
    findings = licenses.extract(record)
    return {"licence_ids": _licence_ids(findings), "licence_findings": findings_json(findings)}


def code_repo_columns(repo: str, tree_sha: str, paths: list[str], documents: list[dict]) -> dict:
    """A code repository's roles and licences at one tree, judged from its own files."""
    files = RepoFiles(repo, tree_sha, paths, _documents(documents))
    found_roles, evidence = roles(files)
    findings = licence_findings(files)
    docs = {path: json.loads(findings_json(found)) for path, found in document_findings(files).items()}
    return {"licence_ids": identified_licences(findings), "licence_findings": findings_json(findings),
            "roles": found_roles, "doc_findings": json.dumps(docs, sort_keys=True) if docs else None,
            "role_evidence": json.dumps(evidence_rows(evidence), sort_keys=True)}


def findings_json(findings: list[Finding]) -> str:
    return json.dumps([{"signal": f.signal, "value": f.value, "confidence": f.confidence,
                        "evidence": [asdict(e) for e in f.evidence]} for f in findings], sort_keys=True, default=str)


def _documents(rows: list[dict]) -> dict[str, Document]:
    return {d["path"]: Document(d["path"], d["url"], d["text"]) for d in rows}


def _list(value) -> list:
    """A payload's list, or none: card YAML reaches the Hub's answers with any type."""
    return value if isinstance(value, list) else []


def _licence_ids(findings: list[Finding]) -> list[str]:
    ids = set()
    for finding in findings:
        if finding.signal == "licence.declared":
            for item in finding.value if isinstance(finding.value, list) else []:
                parts = item.get("parts") or [item] if isinstance(item, dict) else []
                ids.update(part["id"] for part in parts if isinstance(part, dict) and part.get("id"))
        elif finding.signal in ("licence.identified", "licence.name") and isinstance(finding.value, dict):
            if finding.value.get("id"):
                ids.add(finding.value["id"])
    return sorted(ids)
