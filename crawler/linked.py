"""Warehouse rows for what models link to: the links themselves, each target's outcome, and the
datasets, code repositories and papers reached. Pure functions, no I/O; the extractors judge
licences and roles."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from openness.extractors import Finding, licenses
from openness.extractors.base import Document, ModelRecord
from openness.extractors.code_repos import (RepoFiles, document_findings, evidence_rows, identified_licences, licence_findings,
                                   roles)
from openness.crawler.records import as_str, gated_value, json_text, licence_tag, parse_time
from openness.warehouse.db import utcnow


def target_row(kind: str, target: str, status: str, depth: int, *, reason: str | None = None,
               transient: bool = False, http_status: int | None = None, resolved_id: str | None = None,
               message: str | None = None, retry_after: datetime | None = None) -> dict:
    return {"kind": kind, "target": target, "status": status, "reason": reason, "transient": transient,
            "http_status": http_status, "resolved_id": resolved_id, "message": (message or "")[:1000] or None,
            "retry_after": retry_after, "depth": depth, "attempts": 1, "checked_at": utcnow()}


def document_row(kind: str, target: str, ref: str, path: str, url: str, body: bytes, text: str | None,
                 encoding: str | None, truncated: bool, sha256: str) -> dict:
    return {"kind": kind, "target": target, "ref": ref, "path": path, "url": url, "sha256": sha256,
            "size_bytes": len(body), "encoding": encoding, "truncated": truncated, "text": text,
            "fetched_at": utcnow()}


def dataset_row(payload: dict, card_status: str, documents: list[dict], complete: bool, info_url: str) -> dict:
    """A dataset commit, with the licence extractor's findings over its card and licence files."""
    card = payload.get("cardData") if isinstance(payload.get("cardData"), dict) else None
    docs = {d["path"]: Document(d["path"], d["url"], d["text"]) for d in documents}
    siblings = [s.get("rfilename") for s in _list(payload.get("siblings")) if isinstance(s, dict)]
    record = ModelRecord(payload["id"], payload["sha"], payload, [{"path": p} for p in siblings if isinstance(p, str)],
                         docs, info_url)
    tags = record.tags
    findings = licenses.extract(record)
    return {
        "dataset_id": payload["id"], "sha": payload["sha"], "author": as_str(payload.get("author")),
        "last_modified": parse_time(payload.get("lastModified")),
        "gated": gated_value(payload.get("gated")), "private": bool(payload.get("private")),
        "disabled": bool(payload.get("disabled")), "tags": tags, "license": licence_tag(card, tags),
        "licence_ids": _licence_ids(findings), "licence_findings": _findingsjson_text(findings),
        "card_data": json_text(card), "card_status": card_status, "info": json_text(payload), "complete": complete,
    }


def _list(value) -> list:
    """A payload's list, or none: card YAML reaches the Hub's answers with any type."""
    return value if isinstance(value, list) else []


def code_repo_row(repo: str, fields: dict, tree_sha: str, paths: list[str], truncated: bool,
                  documents: list[dict], complete: bool, info: dict) -> dict:
    """A code repository at one tree, with its roles and licence judged from its own files."""
    files = RepoFiles(repo, tree_sha, paths, {d["path"]: Document(d["path"], d["url"], d["text"]) for d in documents})
    found_roles, evidence = roles(files)
    findings = licence_findings(files)
    docs = {path: json.loads(_findingsjson_text(found)) for path, found in document_findings(files).items()}
    return {"repo": repo, "tree_sha": tree_sha, **fields, "licence_ids": identified_licences(findings),
            "licence_findings": _findingsjson_text(findings), "roles": found_roles,
            "doc_findings": json.dumps(docs, sort_keys=True) if docs else None,
            "role_evidence": json.dumps(evidence_rows(evidence), sort_keys=True), "file_count": len(paths),
            "tree_truncated": truncated, "info": json_text(info), "complete": complete}


def paper_row(paper_id: str, url: str, fetched: bool, title: str | None = None, abstract: str | None = None,
              note: str | None = None, github_repo: str | None = None, project_page: str | None = None,
              hub_page: str | None = None) -> dict:
    return {"paper_id": paper_id, "url": url, "title": title, "abstract": abstract, "fetched": fetched, "note": note,
            "github_repo": github_repo, "project_page": project_page, "hub_page": hub_page}


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


def _findingsjson_text(findings: list[Finding]) -> str:
    return json.dumps([{"signal": f.signal, "value": f.value, "confidence": f.confidence,
                        "evidence": [asdict(e) for e in f.evidence]} for f in findings], sort_keys=True, default=str)

