"""Licence terms as the card and the repo state them: the card's licence tag, license_name and
license_link, the licence files present and the licence each one's text is (or unknown), each
resolved against the knowledge base; a card that names one licence while its files hold another
is flagged."""
from __future__ import annotations

import functools
import re

from openness.extractors.base import Finding, Located, ModelRecord, front_matter_span
from openness.extractors.identify import default_identifier
from openness.extractors.knowledge import lookup

NAME, VERSION = "licenses", "6"
# Why a licence file was not read that says nothing is there to read (the listing named a file its
# commit does not serve): no licence is in play. Any other reason (left for a later crawl, gated,
# a server error) leaves one in play whose terms are not known.
NOTHING_THERE = frozenset({"missing_file", "not_in_snapshot", "not_found"})
_OPERATOR = re.compile(r"\s(and|or|with)\s", re.IGNORECASE)
_LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|use[_-]?policy|notice|(model|weights?)[_-]?licen[cs]e)", re.IGNORECASE)
# A licence file for the model, not the code beside it (MODEL_LICENSE, WEIGHTS_LICENSE, LICENSE_MODEL).
_MODEL_LICENCE_FILE = re.compile(r"^((model|weights?)[_-]?licen[cs]e|licen[cs]e[_-]?(model|weights?))", re.IGNORECASE)


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    card = record.card_data
    findings = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    declared = declared_licences(card)
    tagged = [t.split(":", 1)[1] for t in record.tags if isinstance(t, str) and t.startswith("license:")]
    if declared:
        key = "license" if "license" in card else "licenses"
        add("licence.declared", [_resolve(name) for name in declared], 1.0, [at.card_key(key)])
    elif tagged:  # the Hub's license: tags, where the card's metadata did not reach us
        add("licence.declared", [_resolve(name) for name in tagged], 0.9, [at.info_key("tags")])
    else:
        add("licence.declared", [], 1.0 if record.readme() else 0.5,
            [at.file("README.md")] if record.readme() else [at.info_key("cardData")])
    for key in ("license_name", "license_link"):
        value = card.get(key)
        if isinstance(value, str) and value.strip():
            resolved = _resolve(value) if key == "license_name" else {"link": value.strip()}
            add(f"licence.{key.split('_')[1]}", resolved, 1.0, [at.card_key(key)])
    files = [p for p in record.paths if is_licence_file(p)]
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
        if is_model_licence_file(path):
            value["scope"] = "model"
        add("licence.identified", value, match.score if match else 1.0, [_first_line(at, path)])
        if match and match.licence_id:
            identified.append((path, match.licence_id))
    for path, why in _unread(record, files):
        add("licence.unread", {"path": path, "why": why}, 1.0, [at.file(path)])
    for number, component, name, statement in _component_statements(record):
        add("licence.component", {"component": component, "licence": _resolve(name), "statement": statement}, 0.8,
            [at.lines("README.md", number, number)])
    for number, names, statement in prose_statements(record):
        add("licence.prose", {"licences": [_resolve(name) for name in names], "statement": statement}, 0.7,
            [at.lines("README.md", number, number)])
    mismatch = _mismatch(declared, identified)
    if mismatch:
        add("licence.mismatch", mismatch, 0.9, [at.card_key("license" if "license" in card else "licenses")]
            + [_first_line(at, p) for p, _ in identified])
    return findings


def _unread(record: ModelRecord, files: list[str]) -> list[tuple[str, str]]:
    """The licence files the crawl wanted and did not read, with why (repo_files.unread)."""
    why = {f["path"]: f.get("unread") for f in record.files}
    return [(path, why[path]) for path in files
            if why.get(path) and why[path] not in NOTHING_THERE and path not in record.documents]


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


def is_licence_file(path: str) -> bool:
    """LICENSE*, LICENCE*, COPYING*, USE_POLICY*, NOTICE*, MODEL_LICENSE*, in any folder."""
    return bool(_LICENCE_FILE.match(path.rsplit("/", 1)[-1]))


def is_model_licence_file(path: str) -> bool:
    """A licence file that names the model or its weights as what it licenses."""
    return bool(_MODEL_LICENCE_FILE.match(path.rsplit("/", 1)[-1]))


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
    if _OPERATOR.search(name):
        return _resolve_expression(name)
    licence = lookup(name)
    if licence is None:
        return {"name": name, "id": None, "spdx_id": None, "points": None, "known": False}
    return {"name": name, "id": licence.id, "spdx_id": licence.spdx_id, "points": licence.points,
            "known": True, "family": licence.family}


@functools.cache
def _spdx_licensing():
    from license_expression import get_spdx_licensing
    return get_spdx_licensing()


def _resolve_expression(name: str) -> dict:
    """`Apache-2.0 OR MIT` and the like: normalised with license-expression, each part resolved
    against the knowledge base (never through license-expression alone, which reads the Hub's
    family id `gpl` as GPL-1.0-or-later). The most restrictive part decides the points of an AND;
    the most open one those of an OR, since the user may choose."""
    try:
        parsed = _spdx_licensing().parse(name, validate=False)
        keys = list(_spdx_licensing().license_keys(parsed))
    except Exception:  # an unparseable expression is still what the card says
        return {"name": name, "id": None, "spdx_id": None, "points": None, "known": False}
    parts = [_resolve(key) for key in keys]
    known = [p["points"] for p in parts if p["points"] is not None]
    choose = max if re.search(r"\bor\b", name, re.IGNORECASE) and not re.search(r"\band\b", name, re.IGNORECASE) else min
    spdx = parsed.render()
    for key, part in zip(keys, parts):
        spdx = re.sub(rf"(?<![\w.-]){re.escape(key)}(?![\w.-])",
                      part["spdx_id"] or f"LicenseRef-openness-unknown-{re.sub(r'[^A-Za-z0-9.-]', '-', key)}", spdx)
    return {"name": name, "expression": parsed.render(), "parts": parts, "id": None, "spdx_id": spdx,
            "points": choose(known) if known and len(known) == len(parts) else None, "known": all(p["known"] for p in parts)}


_COMPONENT = re.compile(
    r"\b(?P<what>source code|code|model weights|weights|checkpoints?|parameters|training data|datasets?|data)\b"
    r"[^.;]{0,80}?\b(?:is|are)?\s*(?:licensed|released|available|distributed|provided|made available)\s+under\s+"
    r"(?P<rest>(?:[^.;,\n]|\.(?=\d)){1,80})|"  # a dot inside "2.0" does not end it
    # ... or a field of its own: "Model weights: Apache 2.0", "**Code licence:** MIT"
    r"(?:^|[.!?|]\s+)[\s>*#|-]*(?:\*\*|__)?(?P<field>source code|code|model weights|weights|checkpoints?|training data|data)"
    r"(?:\s+licen[cs]e)?\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(?P<value>(?:[^.;,\n]|\.(?=\d)){1,80})", re.IGNORECASE)
_COMPONENTS = {"source code": "code", "code": "code", "model weights": "weights", "weights": "weights",
               "checkpoint": "weights", "checkpoints": "weights", "parameters": "weights",
               "training data": "data", "dataset": "data", "datasets": "data", "data": "data"}


def _component_statements(record: ModelRecord):
    """Lines such as "The code is released under Apache 2.0; the weights under CC-BY-NC-4.0"."""
    readme = record.readme()
    if not readme or not readme.text:
        return
    for number, line in enumerate(readme.text.splitlines(), 1):
        for match in _COMPONENT.finditer(line):
            name = _licence_name(match.group("rest") or match.group("value"))
            if name:
                what = (match.group("what") or match.group("field")).lower()
                yield number, _COMPONENTS[what], name, match.group(0).strip()


# A card's licence in prose: a "License:" field (Markdown, bold or a table row), or a sentence
# that the model, its weights or the repository are released, licensed or governed under one.
_PROSE = (
    re.compile(r"(?:^|[.!?]\s+)[\s>*#|-]*(?:\*\*|__)?\s*licen[cs]e[sd]?(?:\s+information)?\s*(?:\*\*|__)?\s*(?:\*\*|__)?\s*[:|]"
               r"(?:\*\*|__)?\s*(?P<rest>.+)", re.IGNORECASE),
    # a sentence of its own: "Available under the Apache 2.0 license.", "Licensed under MIT."
    re.compile(r"(?:^|[.!;:]\s+|(?:\*\*|__)\s*)(?:(?:publicly|openly|freely)\s+)?(?:available|released|licensed|distributed|"
               r"published|provided)\s+under\s+(?P<rest>.{1,160})", re.IGNORECASE),
    re.compile(r"\b(?:is|are|was|were|been|be)\s+(?:publicly\s+|openly\s+)?(?:released|licensed|distributed|made\s+available|"
               r"available|provided|published|governed|shared)\s+(?:publicly\s+)?under\s+(?P<rest>.{1,160})", re.IGNORECASE),
    re.compile(r"\b(?:governed|covered)\s+by\s+(?P<rest>.{1,160})", re.IGNORECASE),
    re.compile(r"\bunder\s+the\s+terms\s+of\s+(?P<rest>.{1,160})", re.IGNORECASE),
    re.compile(r"\b(?:licensed|released)\s+(?:as|with)\s+(?P<rest>.{1,160})", re.IGNORECASE),
)
_PROSE_HINT = re.compile(r"licen|govern|cover| under ", re.IGNORECASE)
_CODE_ONLY = re.compile(r"\b(code|source code|codebase|software|scripts?|repository code|datasets?|data|corpus|corpora|"
                        r"librar(y|ies)|tokenizer|package|toolkit|framework)\b",
                        re.IGNORECASE)  # a sentence about code or data alone is not the model's licence
_MODEL_WORDS = re.compile(r"\b(models?|weights|checkpoints?|parameters|this repo(sitory)?|model card|release)\b", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SENTENCE_START = re.compile(r"(?<=[.!?;])\s+")


def prose_statements(record: ModelRecord):
    """(line, licence ids, statement) for each line of the card's body that states a licence in
    prose, other than one about code or data alone (that is licence.component's business)."""
    readme = record.readme()
    if not readme or not readme.text:
        return
    text = readme.text
    block = front_matter_span(text)
    first_body_line = text.count("\n", 0, block[1]) + 2 if block else 1
    for number, line in enumerate(text.splitlines(), 1):
        if number < first_body_line or not _PROSE_HINT.search(line):
            continue
        for pattern in _PROSE:
            match = pattern.search(line)
            if not match:
                continue
            sentence = re.split(r"(?<=[.;!?])\s", _MARKDOWN_LINK.sub(r"\1", match.group("rest")), maxsplit=1)[0]
            statement = line[:match.end()].strip()
            subject = _SENTENCE_START.split(line[:match.start("rest")])[-1]  # the sentence the licence is given in
            if _CODE_ONLY.search(subject) and not _MODEL_WORDS.search(subject):
                break
            names = licences_in(sentence)
            if names:
                yield number, names, statement[:300]
                break


def licences_in(text: str) -> list[str]:
    """The knowledge-base licences a short text names, in order: the longest known name at each
    word, a specific licence before a family it belongs to ("Creative Commons (CC BY-SA-4.0)")."""
    words = re.findall(r"[\w.+-]+", text)
    found, index = [], 0
    while index < len(words):
        known = _longest_known(words[index:], lambda candidate: candidate.strip("."))
        if known:
            found.append(known[0])
        index += known[1] if known else 1
    specific = [l for l in found if not l.family]
    return list(dict.fromkeys(l.id for l in (specific or found)))


def _licence_name(rest: str) -> str | None:
    """The longest run of words at the start of `rest` that the knowledge base knows."""
    words = re.sub(r"[\[\]()*_`]", " ", rest).split()
    if words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    known = _longest_known(words, lambda candidate: candidate.rstrip(",:"))
    return known[0].id if known else None


MAX_NAME_WORDS = 7


def _longest_known(words: list[str], clean) -> tuple:
    """(licence, words it takes) for the longest run of words at the start that the knowledge base
    knows as a licence (not `other` or `unknown`), with or without a trailing "licence"; or None."""
    for size in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        candidate = clean(" ".join(words[:size]))
        for name in (candidate, re.sub(r"\s+licen[cs]e$", "", candidate, flags=re.IGNORECASE)):
            licence = lookup(name)
            if licence and licence.id not in ("other", "unknown"):
                return licence, size
    return None
