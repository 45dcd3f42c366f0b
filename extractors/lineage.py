"""What a model derives from, as its card says it: the base models its metadata names (a Hub URL
read as the id), or, when the metadata names none, the base its prose names ("a fine-tuned
version of X", "GGUF quants of X", "a LoRA adapter for X", "a merge of X and Y"). A base named in
prose without a Hub id is still a base: the model is a derivative whose base is not identified.
Pure; read by the extractors that treat a derivative's card differently (weights, code, papers,
training data), once per record."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from openness.extractors.base import ModelRecord, front_matter_span
from openness.extractors.knowledge import lineage_phrases, stage_phrases

_HUB = r"(?:https?://)?(?:www\.)?huggingface\.co/"
# Paths of the Hub that are not a model repo.
_NOT_MODELS = frozenset({"datasets", "spaces", "docs", "papers", "models", "blog", "collections", "organizations",
                         "settings", "join", "login", "pricing", "learn", "tasks", "api"})
_HUB_URL = re.compile(_HUB + r"([A-Za-z0-9][\w.-]*)(?:/([A-Za-z0-9][\w.-]*))?")
_BRACKETED_HUB_URL = re.compile(r"\s*\(\s*(?P<url>" + _HUB + r"[^)\s]+)\s*\)")
_LINK = re.compile(r"\[(?P<text>[^\]]{1,200})\]\(\s*(?P<url>[^)\s]+)[^)]*\)")
_ID = re.compile(r"`?(?P<id>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})`?(?![\w/])")
# A plain name: a word with a capital or a digit (GPT-J, Llama 2, Mistral-7B), possibly followed by
# a version or size ("Llama 2", "Falcon 7B"); a possessive owner before it is skipped.
_NAME = re.compile(r"(?:[\w.-]+['\u2019]s\s+)?(?P<name>[A-Z][\w.-]*(?:\s+(?:v?\d[\w.-]*|[A-Z][\w.-]*\d[\w.-]*))?)")
_LEAD = re.compile(r"\s*(?:the\s+|a\s+|an\s+)?(?:original\s+|base\s+|pre-?trained\s+|foundation\s+|parent\s+)*(?:models?\s+)?",
                   re.IGNORECASE)
_SELF = re.compile(r"(?:this|these|our|its|their|the\s+same)\b", re.IGNORECASE)
_OPENING_LINES = 40      # non-empty lines of the card's body that say what it derives from
_MAX_TRIES = 20          # places a phrase is tried in a paragraph (each reads the sentence before it)
_CLAUSE_END = re.compile(r"(?<!\d)[.;!?](?=\s|$)|\n\s*\n")
_SENTENCE_END = re.compile(r"(?<!\d)[.;!?](?=\s)")


@dataclass(frozen=True)
class Lineage:
    ids: tuple[str, ...]            # base models' Hub ids (none when the prose names a base without one)
    relation: str | None            # finetune, adapter, quantized, merge; None: the metadata's bases, relation unsaid
    stated: bool                    # the metadata's base_model_relation says the relation
    source: str                     # metadata or prose
    line: int | None = None         # the card's line that says it (prose)
    names: tuple[str, ...] = ()     # the bases as the prose names them


def lineage(record: ModelRecord) -> Lineage | None:
    """The model's bases as its card declares them, or None for a model that names no base."""
    if record.lineage_read:
        return record.lineage
    found = _from_metadata(record) or _from_prose(record, record.model_id)
    record.lineage, record.lineage_read = found, True
    return found


def stated_stages(record: ModelRecord) -> dict[str, int]:
    """The stages after pre-training that the card says this model itself went through ("this
    model uses supervised fine-tuning and preference training"), each with the first line that
    says so; read in the card's prose, outside code blocks."""
    readme = record.readme()
    found: dict[str, int] = {}
    fenced = False
    for number, line in enumerate(readme.text.splitlines() if readme and readme.text else [], 1):
        if line.strip().startswith("```"):
            fenced = not fenced
        if fenced or "model" not in line.lower():
            continue
        for stage, pattern in stage_phrases():
            if stage not in found and pattern.search(line):
                found[stage] = number
    return found


def hub_model_id(value: str) -> str | None:
    """A Hub model id from a base_model value: the id itself, or a Hub URL of the model (a page,
    a tree or a file of it), read as its id; None for anything else."""
    value = value.strip()
    match = _HUB_URL.match(value)
    if match:
        owner, name = match.group(1), match.group(2)
        if owner.lower() in _NOT_MODELS:
            return None
        return f"{owner}/{name}" if name and name not in ("tree", "blob", "resolve") else owner
    if "://" in value or not value:
        return None
    return value


def _from_metadata(record: ModelRecord) -> Lineage | None:
    card = record.card_data
    base = card.get("base_model")
    raw = [base] if isinstance(base, str) else [b for b in base if isinstance(b, str)] if isinstance(base, list) else []
    ids = tuple(dict.fromkeys(i for i in (hub_model_id(b) for b in raw) if i))
    if not ids:
        return None
    relation = card.get("base_model_relation")
    stated = relation in ("adapter", "merge", "quantized", "finetune")
    return Lineage(ids, relation if stated else None, stated, "metadata")


def _from_prose(record: ModelRecord, model_id: str) -> Lineage | None:
    """The first paragraph of the card's opening that says what the model derives from (a sentence
    may run over several lines), read outside code blocks, tables and citations."""
    readme = record.readme()
    if not readme or not readme.text:
        return None
    text = readme.text
    block = front_matter_span(text)
    start = text.find("\n", block[1] + 1) + 1 if block else 0
    for number, paragraph in _paragraphs(text[start:].split("\n"), text.count("\n", 0, start) + 1):
        found = _said_in(paragraph, model_id)
        if found:
            relation, ids, names, at = found
            return Lineage(ids, relation, False, "prose", number + paragraph.count("\n", 0, at), names)
    return None


def _paragraphs(lines: list[str], first: int):
    """(line number, text) of the prose paragraphs among the opening _OPENING_LINES non-empty lines,
    lines joined by newlines (which end no sentence here)."""
    seen, fenced, current, begun = 0, False, [], None
    for number, line in enumerate(lines, first):
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
        prose = not fenced and stripped and not stripped.startswith(("|", "@", "<", "```"))
        if stripped:
            seen += 1
        if prose and not stripped.startswith("#"):
            begun = begun or number
            current.append(line)
        if (not prose or stripped.startswith("#")) and current:
            yield begun, "\n".join(current)
            current, begun = [], None
        if seen >= _OPENING_LINES:
            break
    if current:
        yield begun, "\n".join(current)


# Words before the phrase that make it about other models: a comparison, others' variants.
_OTHERS = re.compile(r"\b(?:outperform\w*|than|unlike|compar\w*|versus|vs\.?|other|models|variants|versions|siblings)\b",
                     re.IGNORECASE)


def _said_in(text: str, model_id: str) -> tuple[str, tuple[str, ...], tuple[str, ...], int] | None:
    """(relation, base ids, base names, offset) when the text says what the model derives from."""
    for relation, pattern, follows in lineage_phrases():
        bases, at = _bases_before(text, pattern) if follows else _bases_after(text, pattern, relation)
        bases = [(i, n) for i, n in bases if not (i and i.lower() == model_id.lower())]
        if bases and (relation != "merge" or len(bases) > 1):
            ids = tuple(dict.fromkeys(i for i, _ in bases if i))
            return relation, ids, tuple(dict.fromkeys(n for _, n in bases)), at
    return None


def _bases_after(text: str, pattern: re.Pattern, relation: str) -> tuple[list[tuple[str | None, str]], int]:
    """The bases named after the words ("a fine-tuned version of [X]"), when nothing before them in
    their clause speaks of other models; and where the words are."""
    for match in itertools.islice(pattern.finditer(text), _MAX_TRIES):
        if _OTHERS.search(text[_clause_start(text, match.start()):match.start()]):
            continue
        rest = text[match.end():]
        end = _CLAUSE_END.search(_masked(rest))
        bases = _bases_in(rest[:end.start()] if end else rest, many=relation == "merge")
        if bases:
            return bases, match.start()
    return [], 0


def _clause_start(text: str, end: int) -> int:
    """Where the sentence holding text[end] starts."""
    return max((m.end() for m in _SENTENCE_END.finditer(_masked(text[:end]))), default=0)


def _bases_before(text: str, pattern: re.Pattern) -> tuple[list[tuple[str | None, str]], int]:
    """A base named by its Hub id or link just before the words ("org/base, further trained on")."""
    for found in list(_LINK.finditer(text)) + list(_HUB_URL.finditer(text)) + list(_ID.finditer(text)):
        if pattern.match(text[found.end():]):
            base = _base_at(text, found.start())
            if base and base[0][0]:
                return [base[0]], found.start()
    return [], 0


def _masked(text: str) -> str:
    """URLs' dots do not end a clause."""
    return re.sub(r"https?://\S+", lambda m: "U" * len(m.group(0)), text)


def _bases_in(rest: str, many: bool) -> list[tuple[str | None, str]]:
    """(Hub id or None, name) of the base (or, for a merge, every base) named at the start of `rest`."""
    out, position = [], 0
    while True:
        lead = _LEAD.match(rest, position)
        position = lead.end()
        if _SELF.match(rest, position):
            return out
        found = _base_at(rest, position)
        if not found:
            return out
        base, position = found
        out.append(base)
        if not many:
            return out
        joint = re.match(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*\+\s*|\s*&\s*|\s+with\s+)", rest[position:])
        if not joint:
            return out
        position += joint.end()


def _base_at(text: str, position: int) -> tuple[tuple[str | None, str], int] | None:
    link = _LINK.match(text, position)
    if link and re.search(r"['\u2019]s$", link.group("text")):  # "[EleutherAI's](...) [GPT-J](...)": the owner
        return _base_at(text, link.end() + len(text[link.end():]) - len(text[link.end():].lstrip()))
    if link:
        url = link.group("url")
        hub = _HUB_URL.match(url)
        return (hub_model_id(url) if hub else None, link.group("text").strip("`* ")), link.end()
    url = _HUB_URL.match(text, position)
    if url:
        return (hub_model_id(url.group(0)), url.group(0)), url.end()
    plain = _ID.match(text, position)
    if plain:
        return (plain.group("id"), plain.group("id")), plain.end()
    name = _NAME.match(text, position)
    if name:  # a plain name, and the Hub link in brackets after it: "Kite-1B (https://huggingface.co/...)"
        link = _BRACKETED_HUB_URL.match(text, name.end())
        return ((hub_model_id(link.group("url")), name.group("name")), link.end()) if link else \
            ((None, name.group("name")), name.end())
    return None
