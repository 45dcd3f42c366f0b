"""Training-data disclosure: datasets the card names, README sections about training data, named
corpora (with their stage: pre-training, SFT, alignment), and explicit non-disclosure, which is kept
apart from silence."""
from __future__ import annotations

import re

from openness.extractors.base import Finding, Located, ModelRecord, heading_above, headings
from openness.extractors.corpus_mentions import corpus_mentions, names_a_dataset
from openness.extractors.knowledge import STAGES, corpus_by_hub_id, corpus_by_name
from openness.extractors.lineage import lineage
from openness.extractors.sentences import clause, clause_span

NAME, VERSION = "training_data", "3"
_STAGE_WORDS = (  # checked in this order where several are equally near a mention
    ("alignment", re.compile(r"\b(rlhf|dpo|ppo|orpo|kto|preference|reward model|align(ed|ment))\b", re.I)),
    ("sft", re.compile(r"\b(fine-?tun\w*|sft|instruction[- ]tun\w*|instruct(ion)? data|(?<!self-)(?<!un)supervised)\b", re.I)),
    ("pretraining", re.compile(r"\b(pre-?train\w*|from scratch)\b", re.I)),
)
_DATA_HEADING = re.compile(
    r"\b(training|pre-?training|fine-?tuning|finetuning|sft|instruction|alignment|rlhf|preference)?\s*"
    r"(data|dataset|datasets|corpus|corpora|data sources|data mix(ture)?)\b", re.I)
# Every statement _WITHHELD finds has one of these words; a line without any is not tried further.
_WITHHELD_HINT = re.compile(r"data|corpus|corpora|crawl|collection|texts|sources|generat|synthe|distill|written|"
                            r"produced|created|authored|annotat|label|mix", re.IGNORECASE)
_DATA = r"(?:training\s+|pre-?training\s+|fine-?tuning\s+|instruction\s+)?(?:data(?:sets?)?|corpus|corpora|data\s*mix(?:ture)?)"
# Statements that data is not released, in the order they are tried on a line. `generated`: data
# another model wrote (counted as unreleased only where the card names no dataset for that stage).
_WITHHELD = (
    ("proprietary", re.compile(r"\b(proprietary|internal|in-house|private|non-public|licensed|closed)\s+(?:\w+\s+){0,2}?"
                               r"(data(?:sets?)?|corpus|corpora|mix(?:ture)?|sources?|crawls?|collections?|texts)\b", re.I)),
    ("proprietary", re.compile(r"\bdata(?:sets?)?\s+(?:was\s+|were\s+)?(licensed|purchased|acquired|obtained)\s+from\b", re.I)),
    ("not_released", re.compile(r"\b(do not|don't|will not|won't|cannot|can't|are not|aren't)\s+(?:currently\s+)?"
                                r"(release|releasing|disclose|disclosing|share|sharing|publish|publishing|make\s+public)\s+"
                                r"(?:the\s+|our\s+|any\s+|this\s+)?" + _DATA, re.I)),
    ("not_released", re.compile(r"\b" + _DATA + r"\b[^.;!?]{0,80}?\b(?:has|have|is|are|was|were|will)\s+not\s+(?:been\s+|be\s+)?"
                                r"(?:publicly\s+|openly\s+|made\s+)?(released|available|disclosed|published|public|shared)", re.I)),
    ("generated", re.compile(r"\b(generated|synthesi[sz]ed|distilled|(?:re)?written|rephrased|paraphrased|produced|created|authored|"
                             r"annotated|labell?ed)\s+"
                             r"(?:by|from|using|with)\s+(?:the\s+)?(?:[\w-]+(?:'s)?\s+)?(gpt-?\d\w*|chatgpt|claude\w*|gemini\w*|"
                             r"openai\w*|text-davinci\w*|(?:a|another)\s+(?:larger\s+|stronger\s+|teacher\s+|proprietary\s+|"
                             r"closed\s+)?(?:language\s+)?model)", re.I)),
    # synthetic data that no named dataset holds: another model wrote it, and it is not released
    ("generated", re.compile(r"\bsynthetic\s+(?:[\w-]+\s+){0,2}?(?:data|datasets?|texts?|textbooks?|examples|exercises|"
                             r"conversations|dialogues|instructions|samples|corpus|corpora)\b", re.I)),
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
    default_stage = "sft" if lineage(record) is not None else "pretraining"
    prose = prose_findings(record, "README.md", default_stage) if readme and readme.text else []
    findings += prose
    for finding in prose:
        if finding.signal == "data.corpus":
            stages[finding.value["stage"]].add(finding.value["corpus"])
    withheld = [f.value["kind"] for f in prose if f.signal == "data.nondisclosure"]
    status = _status(stages, withheld)
    evidence = [at.file("README.md")] if readme else [at.info_key("cardData")]
    add("data.disclosure", {"status": status, "stages": {s: sorted(v) for s, v in stages.items()}},
        0.9 if status != "silent" else 0.7, evidence)
    return findings


def prose_findings(record: ModelRecord, path: str, default_stage: str = "pretraining") -> list[Finding]:
    """What a document's prose says of the training data: its data sections, the corpora it names
    (and those it names as removed), and statements that data is withheld, vague or generated.
    Read from the model card, or from a model card its developers keep in their code repository."""
    at = Located(record, NAME, VERSION)
    findings: list[Finding] = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    document = record.documents.get(path)
    lines = document.text.splitlines() if document and document.text else []
    sections = headings(lines)
    for number, heading in sections:
        if _DATA_HEADING.search(heading):
            end = _section_end(sections, number, len(lines))
            add("data.section", {"heading": heading, "lines": [number, end]}, 0.9,
                [at.lines(path, number, min(end, number + 15))])
    for mention in corpus_mentions(lines):
        number, corpus = mention.number, mention.corpus
        if mention.excluded:  # "all Wikipedia pages were removed": named, and not training data
            add("data.excluded", {"corpus": corpus.id, "name": corpus.name, "statement": mention.excluded}, 0.8,
                [at.lines(path, number, number)])
            continue
        stage = _stage(lines[number - 1], heading_above(sections, number), mention.start) or corpus.stage
        value = {"corpus": corpus.id, "name": corpus.name, "stage": stage, "licence": corpus.licence,
                 "hub_ids": list(corpus.hub_ids)}
        if mention.derived:  # "a filtered subset of X": X is where the data came from, not the data
            value["derived"] = mention.derived
        add("data.corpus", value, 0.8, [at.lines(path, number, number)])
    for number, line in enumerate(lines, 1):
        if not _WITHHELD_HINT.search(line):
            continue  # no word any statement of withheld data has: most lines of a card
        for kind, pattern in _WITHHELD:
            match = pattern.search(line)
            if match:
                where = clause(line, match.start(), match.end())
                said_of = match.end() if match.group(0).lower().startswith("synthetic") else match.start()
                if kind == "generated" and names_a_dataset(_generated_phrase(line, said_of)):
                    break  # "UltraChat, a dataset of dialogues generated by ChatGPT": a released dataset, named
                stage = _stage(where, heading_above(sections, number)) or default_stage
                add("data.nondisclosure", {"kind": kind, "statement": match.group(0), "stage": stage}, 0.8,
                    [at.lines(path, number, number)])
                break
    return findings


def _card_datasets(record: ModelRecord) -> list[dict]:
    names = record.card_data.get("datasets")
    names = [names] if isinstance(names, str) else names if isinstance(names, list) else []
    tags = [t.split(":", 1)[1] for t in record.tags if isinstance(t, str) and t.startswith("dataset:")]
    out, seen = [], set()
    for name in [n for n in names if isinstance(n, str)] + tags:
        key = name.strip()
        if not key or key.lower() in seen:
            continue
        seen.add(key.lower())
        corpus = corpus_by_hub_id().get(key.lower()) or corpus_by_name(key)  # "the Pile": a corpus, not an id
        out.append({"id": key, "corpus": corpus.id if corpus else None, "stage": corpus.stage if corpus else None,
                    "licence": corpus.licence if corpus else None})
    return out


def _generated_phrase(line: str, start: int) -> str:
    """The words before "generated by" that say what was generated: the last part of the clause's
    list ("the Alpaca dataset and [50k conversations]"), with the name an apposition describes
    ("UltraChat, [a dataset of dialogues]")."""
    left, _ = clause_span(line, start)
    parts = re.split(r",|;|\band\b|\bplus\b|\bas well as\b", line[left:start])
    phrase = parts[-1]
    if len(parts) > 1 and re.match(r"\s*(a|an|the)\s+(\w+\s+)?(dataset|corpus|collection|set|mix)\b", phrase):
        phrase = parts[-2] + phrase
    return phrase


def _section_end(sections: list[tuple[int, str]], start: int, last: int) -> int:
    later = [n for n, _ in sections if n > start]
    return (later[0] - 1) if later else last


_PART = re.compile(r",|;|\band\b|\bplus\b|\bas well as\b|\bthen\b", re.IGNORECASE)


def _stage(line: str, heading: str, at: int | None = None) -> str | None:
    """The training stage the words around a mention name: in its part of a list first ("fine-tuned
    on [X] and aligned with DPO on Y"), then its clause, its line (the stage word nearest to it), then
    the heading above it."""
    spans = [(0, len(line))]
    if at is not None:
        left, right = clause_span(line, at)
        cuts = [left] + [m.end() for m in _PART.finditer(line, left, right)] + [right]
        part = (max(c for c in cuts if c <= at), min((c for c in cuts if c > at), default=right))
        spans = [part, (left, right), (0, len(line))]
    for left, right in spans:
        position = at if at is not None else left
        found = [(abs(m.start() - position), order, stage)
                 for order, (stage, pattern) in enumerate(_STAGE_WORDS) for m in pattern.finditer(line, left, right)]
        if found:
            return min(found)[2]
    found = [(order, stage) for order, (stage, pattern) in enumerate(_STAGE_WORDS) if pattern.search(heading)]
    return min(found)[1] if found else None


def _status(stages: dict[str, set[str]], withheld: list[str]) -> str:
    if any(stages.values()):
        return "named"
    if any(kind in ("proprietary", "not_released", "generated") for kind in withheld):
        return "withheld"
    if withheld:
        return "vague"
    return "silent"
