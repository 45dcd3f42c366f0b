"""Training-data disclosure: datasets the card names, README sections about training data, named
corpora (with their stage: pre-training, SFT, alignment), and explicit non-disclosure, which is kept
apart from silence."""
from __future__ import annotations

import re

from extractors.base import Finding, Located, ModelRecord, first_mentions, heading_above, headings
from extractors.knowledge import STAGES, corpora, corpus_by_hub_id

NAME, VERSION = "training_data", "1"
_STAGE_WORDS = (  # checked in this order: the most specific stage wins
    ("alignment", re.compile(r"\b(rlhf|dpo|ppo|orpo|kto|preference|reward model|align(ed|ment))\b", re.I)),
    ("sft", re.compile(r"\b(fine-?tun\w*|sft|instruction[- ]tun\w*|instruct(ion)? data|supervised)\b", re.I)),
    ("pretraining", re.compile(r"\b(pre-?train\w*|from scratch)\b", re.I)),
)
_DATA_HEADING = re.compile(
    r"\b(training|pre-?training|fine-?tuning|finetuning|sft|instruction|alignment|rlhf|preference)?\s*"
    r"(data|dataset|datasets|corpus|corpora|data sources|data mix(ture)?)\b", re.I)
_WITHHELD = (
    ("proprietary", re.compile(r"\b(proprietary|internal|in-house|private)\s+(training\s+)?(data(set)?s?|corpus|corpora|mix(ture)?)\b", re.I)),
    ("not_released", re.compile(r"\b(do not|don't|will not|won't|cannot|can't)\s+(release|disclose|share|publish)\s+(the\s+|our\s+)?(training\s+)?(data|dataset)", re.I)),
    ("not_released", re.compile(r"\b(training\s+)?data(sets?)?\s+(is|are)\s+not\s+(publicly\s+)?(released|available|disclosed)", re.I)),
    ("vague", re.compile(r"\b(publicly available|public)\s+(data|datasets|sources|web data)\b|\bmix of (publicly available|public) data\b", re.I)),
)


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    findings: list[Finding] = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    stages: dict[str, set[str]] = {s: set() for s in STAGES}
    declared = _card_datasets(record)
    if declared:
        for item in declared:
            if item["stage"]:
                stages[item["stage"]].add(item["corpus"] or item["id"])
        add("data.card_datasets", declared, 1.0,
            [at.card_key("datasets")] if "datasets" in record.card_data else [at.info_key("tags")])
    readme = record.readme()
    text = readme.text if readme and readme.text else ""
    lines = text.splitlines()
    sections = headings(lines)
    for number, heading in sections:
        if _DATA_HEADING.search(heading):
            end = _section_end(sections, number, len(lines))
            add("data.section", {"heading": heading, "lines": [number, end]}, 0.9,
                [at.lines("README.md", number, min(end, number + 15))])
    named = set()
    for number, corpus in first_mentions(lines, corpora()):
        stage = _stage(lines[number - 1], heading_above(sections, number)) or corpus.stage
        stages[stage].add(corpus.id)
        named.add(corpus.id)
        add("data.corpus", {"corpus": corpus.id, "name": corpus.name, "stage": stage, "licence": corpus.licence,
                            "hub_ids": list(corpus.hub_ids)}, 0.8, [at.lines("README.md", number, number)])
    withheld = []
    for number, line in enumerate(lines, 1):
        for kind, pattern in _WITHHELD:
            match = pattern.search(line)
            if match:
                withheld.append(kind)
                add("data.nondisclosure", {"kind": kind, "statement": match.group(0)}, 0.8,
                    [at.lines("README.md", number, number)])
                break
    status = _status(stages, withheld)
    evidence = [at.file("README.md")] if readme else [at.info_key("cardData")]
    add("data.disclosure", {"status": status, "stages": {s: sorted(v) for s, v in stages.items()}},
        0.9 if status != "silent" else 0.7, evidence)
    return findings


def _card_datasets(record: ModelRecord) -> list[dict]:
    names = record.card_data.get("datasets")
    names = [names] if isinstance(names, str) else names if isinstance(names, list) else []
    tags = [t.split(":", 1)[1] for t in record.info.get("tags") or [] if isinstance(t, str) and t.startswith("dataset:")]
    out, seen = [], set()
    for name in [n for n in names if isinstance(n, str)] + tags:
        key = name.strip()
        if not key or key.lower() in seen:
            continue
        seen.add(key.lower())
        corpus = corpus_by_hub_id().get(key.lower())
        out.append({"id": key, "corpus": corpus.id if corpus else None, "stage": corpus.stage if corpus else None,
                    "licence": corpus.licence if corpus else None})
    return out


def _section_end(sections: list[tuple[int, str]], start: int, last: int) -> int:
    later = [n for n, _ in sections if n > start]
    return (later[0] - 1) if later else last


def _stage(line: str, heading: str) -> str | None:
    for text in (line, heading):
        for stage, pattern in _STAGE_WORDS:
            if pattern.search(text):
                return stage
    return None


def _status(stages: dict[str, set[str]], withheld: list[str]) -> str:
    if any(stages.values()):
        return "named"
    if any(kind in ("proprietary", "not_released") for kind in withheld):
        return "withheld"
    if withheld:
        return "vague"
    return "silent"
