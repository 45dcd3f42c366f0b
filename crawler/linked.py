"""Warehouse rows for what models link to: the links themselves, each target's outcome, and the
datasets, code repositories and papers reached. Pure functions, no I/O; the extractors judge
licences and roles (extractors/targets.py)."""
from __future__ import annotations

from datetime import datetime

from openness.extractors.base import ModelRecord
from openness.extractors.targets import code_repo_columns, dataset_columns
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


def dataset_row(payload: dict, card_status: str, documents: list[dict], complete: bool) -> dict:
    """A dataset commit, with the licence extractor's findings over its card and licence files."""
    card = payload.get("cardData") if isinstance(payload.get("cardData"), dict) else None
    tags = ModelRecord(payload["id"], payload["sha"], payload, [], {}).tags
    return {
        "dataset_id": payload["id"], "sha": payload["sha"], "author": as_str(payload.get("author")),
        "last_modified": parse_time(payload.get("lastModified")),
        "gated": gated_value(payload.get("gated")), "private": bool(payload.get("private")),
        "disabled": bool(payload.get("disabled")), "tags": tags, "license": licence_tag(card, tags),
        **dataset_columns(payload, documents),
        "card_data": json_text(card), "card_status": card_status, "info": json_text(payload), "complete": complete,
    }


def code_repo_row(repo: str, fields: dict, tree_sha: str, paths: list[str], truncated: bool,
                  documents: list[dict], complete: bool, info: dict) -> dict:
    """A code repository at one tree, with its roles and licence judged from its own files; its paths
    are kept so that `openness extract` can judge them again."""
    return {"repo": repo, "tree_sha": tree_sha, **fields, **code_repo_columns(repo, tree_sha, paths, documents),
            "paths": list(paths), "file_count": len(paths), "tree_truncated": truncated, "info": json_text(info),
            "complete": complete}


def paper_row(paper_id: str, url: str, fetched: bool, title: str | None = None, abstract: str | None = None,
              note: str | None = None, github_repo: str | None = None, project_page: str | None = None,
              hub_page: str | None = None) -> dict:
    return {"paper_id": paper_id, "url": url, "title": title, "abstract": abstract, "fetched": fetched, "note": note,
            "github_repo": github_repo, "project_page": project_page, "hub_page": hub_page}
