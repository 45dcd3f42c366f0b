"""Licence terms as the card and the repo state them: the card's licence tag, license_name and
license_link, the licence files present and the licence each one's text is (or unknown), each
resolved against the knowledge base; a card that names one licence while its files hold another
is flagged."""
from __future__ import annotations

import re

from extractors.base import Finding, Located, ModelRecord
from extractors.identify import default_identifier
from extractors.knowledge import lookup

NAME, VERSION = "licenses", "2"
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
    identified = []
    for path in files:
        doc = record.documents.get(path)
        if doc is None or not doc.text or not doc.text.strip():
            continue
        match = default_identifier().identify(doc.text).best
        value = {"path": path, "id": match.licence_id if match else None, "spdx_id": match.spdx_id if match else None,
                 "score": match.score if match else 0.0, "method": match.method if match else None}
        add("licence.identified", value, match.score if match else 1.0, [_first_line(at, path)])
        if match and match.licence_id:
            identified.append((path, match.licence_id))
    mismatch = _mismatch(declared, identified)
    if mismatch:
        add("licence.mismatch", mismatch, 0.9, [at.card_key("license" if "license" in card else "licenses")]
            + [_first_line(at, p) for p, _ in identified])
    return findings


def _first_line(at: Located, path: str):
    lines = at.record.documents[path].text.splitlines()
    number = next((i for i, line in enumerate(lines, 1) if line.strip()), 1)
    return at.lines(path, number, number)


def _mismatch(declared: list[str], identified: list[tuple[str, str]]) -> dict | None:
    """The card names a specific licence and no licence file in the repo is that licence."""
    specific = [lookup(name) for name in declared]
    specific = [l for l in specific if l and not l.family and l.id not in ("other", "unknown")]
    if not specific or not identified:
        return None
    found = {licence_id for _, licence_id in identified}
    if found & {l.id for l in specific}:
        return None
    return {"declared": sorted(l.id for l in specific), "in_files": sorted(found)}


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
