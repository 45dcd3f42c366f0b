"""Licence terms as the card and the repo state them: the card's licence tag, license_name and
license_link, the licence files present, each resolved against the knowledge base.

Identifying a licence from its text (and flagging a text that disagrees with the card) comes with
the licence text matcher."""
from __future__ import annotations

import re

from extractors.base import Finding, Located, ModelRecord
from extractors.knowledge import lookup

NAME, VERSION = "licenses", "1"
_LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|use[_-]?policy|notice)", re.IGNORECASE)


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    card = record.card_data
    findings = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    declared = declared_licences(card)
    if declared:
        key = "license" if "license" in card else "licenses"
        add("licence.declared", [_resolve(name) for name in declared], 1.0, [at.card_key(key)])
    else:
        add("licence.declared", [], 1.0 if record.readme() else 0.5,
            [at.file("README.md")] if record.readme() else [at.info_key("cardData")])
    for key in ("license_name", "license_link"):
        value = card.get(key)
        if isinstance(value, str) and value.strip():
            resolved = _resolve(value) if key == "license_name" else {"link": value.strip()}
            add(f"licence.{key.split('_')[1]}", resolved, 1.0, [at.card_key(key)])
    files = [p for p in record.paths if _LICENCE_FILE.match(p.rsplit("/", 1)[-1])]
    if files:
        add("licence.files", files, 1.0, [at.file(p) for p in files])
    return findings


def declared_licences(card: dict) -> list[str]:
    value = card.get("license", card.get("licenses"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # kept as written: a nonsense tag is still what the card declares
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def _resolve(name: str) -> dict:
    licence = lookup(name)
    if licence is None:
        return {"name": name, "id": None, "spdx_id": None, "points": None, "known": False}
    return {"name": name, "id": licence.id, "spdx_id": licence.spdx_id, "points": licence.points,
            "known": True, "family": licence.family}
