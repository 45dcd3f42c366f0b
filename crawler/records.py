"""Warehouse rows built from what the Hub returned: pure functions, no I/O."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from huggingface_hub import ModelInfo

from openness.crawler.licence_files import PENDING
from openness.extractors.licenses import declared_licences
from openness.warehouse.db import utcnow


def naive_utc(value) -> datetime | None:
    """A datetime as naive UTC (the warehouse's TIMESTAMP), or None."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return None


def parse_time(value) -> datetime | None:
    """An ISO 8601 string from a payload ('Z' or an offset) as naive UTC; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return naive_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def json_text(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def licence_tag(card_data: dict | None, tags: list[str] | None) -> str | None:
    """The licence the card declares, as written; the Hub's license: tags when the card has none."""
    names = declared_licences(card_data) if isinstance(card_data, dict) else []
    if names:
        return ", ".join(names)
    licences = [t.split(":", 1)[1] for t in tags or [] if isinstance(t, str) and t.startswith("license:")]
    return ", ".join(licences) or None


def gated_value(gated) -> str:
    return gated if gated in ("auto", "manual") else ("manual" if gated is True else "none")


def model_row(info: ModelInfo, payload: dict, card_status: str, card_error: str | None,
              complete: bool) -> dict:
    card_data = payload.get("cardData") if isinstance(payload.get("cardData"), dict) else None
    tags = [t for t in payload.get("tags") or [] if isinstance(t, str)]
    return {
        "model_id": info.id,
        "sha": info.sha,
        "author": info.author or (info.id.split("/")[0] if "/" in info.id else None),
        "created_at": naive_utc(info.created_at),
        "last_modified": naive_utc(info.last_modified),
        "gated": gated_value(payload.get("gated")),
        "private": bool(payload.get("private")),
        "disabled": bool(payload.get("disabled")),
        "downloads": as_int(payload.get("downloads")),
        "likes": as_int(payload.get("likes")),
        "tags": tags,
        "pipeline_tag": as_str(payload.get("pipeline_tag")),
        "library_name": as_str(payload.get("library_name")),
        "license": licence_tag(card_data, tags),
        "card_data": json_text(card_data),
        "card_status": card_status,
        "card_error": card_error,
        "config": json_text(payload.get("config")),
        "safetensors": json_text(payload.get("safetensors")),
        "info": json_text(payload),
        "complete": complete,
    }


def stats_row(payload: dict, depth: int = 0) -> dict:
    return {"model_id": payload.get("id"), "sha": as_str(payload.get("sha")), "depth": depth,
            "downloads": as_int(payload.get("downloads")), "likes": as_int(payload.get("likes")),
            "gated": gated_value(payload.get("gated")), "observed_at": utcnow()}


# What the warehouse's BIGINT columns hold (counts, sizes): a payload's number past it is no count.
INT64 = range(-2**63, 2**63)


def as_int(value) -> int | None:
    """An int from a payload that a BIGINT column holds, or None (a bool is not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value in INT64 else None


def as_str(value) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class ModelFetch:
    """One changed model while its files are being fetched; becomes rows when nothing is pending."""
    info: ModelInfo
    payload: dict
    # new, changed, incomplete (a stored commit whose documents were not all fetched), again
    # (--full), sizes (a stored commit whose weight sizes were left for later) or licences (one whose
    # licence files were)
    state: str
    depth: int = 0  # 0: selected by the crawl; n: reached by following links n deep
    pending: int = 0
    files: dict[str, dict] = field(default_factory=dict)
    documents: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    card: tuple[str, str | None] | None = None  # (card_status, card_error) once README is read
    # what earlier fetches of an incomplete commit stored: not fetched again, extracted with the rest
    stored_documents: list[dict] = field(default_factory=list)
    stored_files: dict[str, dict] = field(default_factory=dict)  # path -> repo_files row (the tree was read)
    sizes_pending: int = 0  # weight files whose size is left for a later crawl (crawler/sizes.py)
    licence_files: list[str] = field(default_factory=list)  # the licence-like files the audit reads
    deferred: list[str] = field(default_factory=list)  # of them, left for a later crawl (crawler/licence_files.py)

    def add_failure(self, url: str, path: str | None, status: int | None, reason: str, transient: bool,
                    error_code: str | None = None, message: str | None = None) -> None:
        self.failures.append(failure_row(self.info.id, self.info.sha, url, path, status, reason, transient,
                                         error_code, message))

    def _unread(self, path: str, read: set[str]) -> str | None:
        """Why a licence file the audit reads is not read at this commit (read: the paths that are):
        left for later, this fetch's failure, or what an earlier fetch said (a revisit that did not
        ask for it again)."""
        if path not in self.licence_files or path in read:
            return None
        if path in self.deferred:
            return PENDING
        failed = [f["reason"] for f in self.failures if f["path"] == path]
        return failed[-1] if failed else (self.stored_files.get(path) or {}).get("unread")

    def item(self) -> dict:
        paths = [s.rfilename for s in self.info.siblings or []]
        if self.card is not None:
            status, error = self.card
        elif "README.md" not in paths:
            status, error = "no_readme", None
        else:
            status, error = "unreadable", "README.md could not be fetched"
        complete = not any(f["transient"] for f in self.failures)
        files = [self.files.get(p) or self.stored_files.get(p) or {"model_id": self.info.id, "sha": self.info.sha, "path": p}
                 for p in paths]
        files += [row for p, row in self.files.items() if p not in set(paths)]
        read = {d["path"] for d in self.documents + self.stored_documents}
        files = [{**row, "unread": self._unread(row["path"], read)} for row in files]
        # counted from the rows: a revisit for sizes alone keeps what an earlier fetch left pending
        model = {**model_row(self.info, self.payload, status, error, complete), "sizes_pending": self.sizes_pending,
                 "licence_files_pending": sum(1 for row in files if row["unread"] == PENDING)}
        return {"kind": "model", "model": model,
                "repo_files": files, "documents": self.documents, "fetch_failures": self.failures,
                "stored_documents": self.stored_documents, "state": self.state, "depth": self.depth}


def renamed_message(requested: str, now: str) -> str:
    """The message of a `renamed` failure row (renamed_to reads it back)."""
    return f"{requested} is now {now}"


def renamed_to(message: str | None) -> str | None:
    """The id a `renamed` failure row's message names; None for any other message."""
    found = re.fullmatch(r"(\S+) is now (\S+)", message or "")
    return found.group(2) if found else None


def failure_row(model_id, sha, url, path, status, reason, transient, error_code=None, message=None) -> dict:
    return {"model_id": model_id, "sha": sha, "url": url, "path": path, "status": status,
            "reason": reason, "transient": transient, "error_code": error_code,
            "message": (message or "")[:1000] or None, "failed_at": utcnow()}
