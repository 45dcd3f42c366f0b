"""What a card's sentence says of a corpus it names. Four things besides "trained on it":
- removed or excluded from the data ("all Wikipedia pages were removed");
- only the source of data made from it ("a filtered subset of RedPajama", "RefinedWeb translated
  into Welsh", "built atop The Pile"): derived data is not a release of its source, unless the
  sentence names the derived dataset itself ("SlimPajama, the cleaned version of RedPajama");
- only a prompt format or a chat template named after it ("the Alpaca prompt format");
- about other models or about evaluation ("unlike models trained on X", "perplexity on X").
Pure text rules over one line; the words are data/corpus_words.yml, the corpora data/corpora.yml."""
from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from types import SimpleNamespace

from openness.extractors.base import mentions
from openness.extractors.knowledge import Corpus, corpora, corpus_words
from openness.extractors.sentences import clause_span, mask_urls, negated

@functools.cache
def _frames() -> SimpleNamespace:
    """The sentence frames, with the words of data/corpus_words.yml put in."""
    w = corpus_words()
    return SimpleNamespace(
        elsewhere=re.compile(rf"\b(?:{w.elsewhere})\b", re.I),
        training_cue=re.compile(rf"\b(?:{w.training_cues})\b", re.I),
        evaluation_cue=re.compile(rf"\b(?:{w.evaluation_cues})\b", re.I),
        # a derivation, a few words, a preposition, and a list of names ending at the mention
        derived_before=re.compile(
            rf"\b(?P<words>(?:{w.derivations})\b(?:\s+[\w%.-]+){{0,4}}?\s+(?:from|of|atop|out\s+of|on\s+top\s+of))\s+"
            r"(?:(?:the\s+)?[\w.-]+(?:\s+[\w.-]+)?\s*(?:,|\band\b|&)\s*){0,4}(?:the\s+)?(?:[\w.-]+\s+)?$", re.I),
        # one word at most between the name and what was done to it, or ", which we (then) ..."
        derived_after=re.compile(
            r"^(?P<words>(?:(?:\s+(?!(?:and|or|with|is|was|are|were|from|of)\b)[\w-]+)?\s+|\s*,\s*(?:which|that)\s+"
            rf"(?:we|was|were)\s+)(?:further\s+|then\s+|additionally\s+|heavily\s+)?(?:{w.done_to_it})\b)"
            r"(?!\s+(?:and\s+[\w-]+\s+)?(?:web\s+)?(?:dataset|corpus|crawl))", re.I),
        format_after=re.compile(r"^[\s*_`'\"]*(?:-\s*|\s+)?(?:style[ds]?\s+|like\s+)?(?:instruction\s+|chat\s+|"
                                rf"prompt(?:ing)?\s+|conversation(?:al)?\s+|dialogue\s+|input\s+)?(?:{w.format_names})\b", re.I),
        format_before=re.compile(rf"\b(?:{w.format_names})\s*[:=]\s*[*_`'\"]*$|\b(?:format|style)\s+(?:of|like)\s+(?:the\s+)?$",
                                 re.I),
        formatting=re.compile(rf"\b(?:{w.formatting})\b", re.I),
        training=re.compile(rf"\b(?:{w.training})\b", re.I))


MAX_MENTIONS = 100  # of one corpus read for what they say: a card naming it more often repeats itself


@dataclass(frozen=True)
class Mention:
    number: int                   # the line
    start: int                    # offset in the line
    corpus: Corpus
    excluded: str | None = None   # the words that remove it from the data
    derived: str | None = None    # the words that make it only the source of the data


def corpus_mentions(lines: list[str]) -> list[Mention]:
    """Each corpus's first positive mention in line order (trained on it, or only the source of
    data made from it), or its first mention that its clause turns around when that comes before
    any positive one (a corpus removed from the data is not training data). A mention that is about
    other models or evaluation, that only names a prompt format, or that is the source of a dataset
    the sentence names counts as neither."""
    found = []
    for index, corpus, matches in mentions(lines, corpora()):
        excluded = None
        for number, start, end in itertools.islice(matches, MAX_MENTIONS):
            line = lines[number - 1]
            words = negated(line, start, end)
            if words is None and (_elsewhere(line, start, end) or _format_only(line, start, end)):
                continue
            if words is None:
                derived = _derived(line, start, end)
                if derived == "":
                    continue  # the source of a dataset the sentence names: that dataset is the data
                found.append((number, index, Mention(number, start, corpus, None, derived)))
                break
            if excluded is None:
                excluded = (number, index, Mention(number, start, corpus, words))
        else:
            if excluded is not None:
                found.append(excluded)
    return [mention for *_, mention in sorted(found, key=lambda f: f[:2])]


def _elsewhere(line: str, start: int, end: int) -> bool:
    """The clause speaks of other models or of evaluation, not of what this model was trained on:
    it compares, or the cue nearest before the mention within the clause is about evaluation."""
    frames = _frames()
    left, right = clause_span(line, start, end)
    if frames.elsewhere.search(line[left:right]):
        return True
    before = line[left:start]
    cues = [(m.end(), "eval") for m in frames.evaluation_cue.finditer(before)] + \
           [(m.end(), "train") for m in frames.training_cue.finditer(before)]
    nearest = max(cues, default=None)
    return bool(nearest and nearest[1] == "eval")


def _format_only(line: str, start: int, end: int) -> bool:
    frames = _frames()
    left, right = clause_span(line, start, end)
    if frames.format_after.match(line[end:]) or frames.format_before.search(line[left:start]):
        return True
    said = line[left:start] + " " + line[end:right]
    return bool(frames.formatting.search(said)) and not frames.training.search(said)


def _derived(line: str, start: int, end: int) -> str | None:
    """The words that make the mention only the source of the data (None when they do not; ''
    when the data made from it is itself named, a published dataset)."""
    frames = _frames()
    left, right = clause_span(line, start, end)
    before = mask_urls(line[left:start])
    found = frames.derived_before.search(before)
    if found:
        return "" if names_a_dataset(before[:found.start()]) else found.group("words")
    after = frames.derived_after.match(line[end:right])
    return after.group("words").strip(" ,") if after else None


_HUB_DATASET = re.compile(r"\bhuggingface\.co/datasets/|\b[A-Za-z0-9][\w.-]+/[\w.-]+\b(?<!\.\w)")


def names_a_dataset(text: str) -> bool:
    """The text names a known corpus or a Hub dataset (owner/name or a datasets link)."""
    return any(c.pattern.search(text) for c in corpora()) or bool(_HUB_DATASET.search(text))
