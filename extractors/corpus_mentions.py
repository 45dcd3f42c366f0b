"""What a card's sentence says of a corpus it names. Four things besides "trained on it":
- removed or excluded from the data ("all Wikipedia pages were removed");
- only the source of data made from it ("a filtered subset of RedPajama", "RefinedWeb translated
  into Welsh", "built atop The Pile"): derived data is not a release of its source, unless the
  sentence names the derived dataset itself ("SlimPajama, the cleaned version of RedPajama");
- only a prompt format or a chat template named after it ("the Alpaca prompt format");
- about other models or about evaluation ("unlike models trained on X", "perplexity on X").
Pure text rules over one line; the knowledge of corpora is data/corpora.yml."""
from __future__ import annotations

import re
from dataclasses import dataclass

from openness.extractors.base import mentions
from openness.extractors.knowledge import Corpus, corpora
from openness.extractors.sentences import clause_span, mask_urls, negated

# A mention of a corpus that is about another model or about evaluation says nothing of this
# model's training data: "unlike models trained on X", "perplexity on the X validation set".
_ELSEWHERE = re.compile(r"\b(unlike|outperform\w*|compar(ed|able|ison)|versus|vs\.?|other models|baselines?)\b", re.I)
_TRAINING_CUE = re.compile(r"\b(train\w*|pre-?train\w*|fine-?tun\w*|built|collected|sourced|consist\w*|mix\w*|"
                           r"corpus|corpora|data(set)?s?|tokens)\b", re.I)
_EVALUATION_CUE = re.compile(r"\b(evaluat\w*|benchmark\w*|validation|perplexity|held[- ]out|test(ed|ing)?\s+(on|set))\b", re.I)
# Words before a corpus that make it the source of other data: a derivation, a few words, a
# preposition, and a list of names ending at the mention ("filtered web data from Falcon [X]",
# "a curated selection from C4 and [X]", "built our data atop [X]").
_DERIVED_BEFORE = re.compile(
    r"\b(?P<words>(?:filtered|subsets?|sampled|subsampled|deduplicated|translated|curated|cleaned|selected|extracted|"
    r"derived|rewritten|paraphrased|distilled|built|portions?|slices?|excerpts?)\b(?:\s+[\w%.-]+){0,4}?\s+"
    r"(?:from|of|atop|out\s+of|on\s+top\s+of))\s+(?:(?:the\s+)?[\w.-]+(?:\s+[\w.-]+)?\s*(?:,|\band\b|&)\s*){0,4}"
    r"(?:the\s+)?(?:[\w.-]+\s+)?$", re.IGNORECASE)
# ... or words right after it that say what was done to it ("RefinedWeb translated into Welsh",
# "C4, which we then filtered"): not an apposition that describes a published corpus.
_DERIVED_AFTER = re.compile(
    r"^(?P<words>(?:(?:\s+(?!(?:and|or|with|is|was|are|were|from|of)\b)[\w-]+)?\s+|\s*,\s*(?:which|that)\s+(?:we|was|were)\s+)"
    r"(?:further\s+|then\s+|additionally\s+|heavily\s+)?"
    r"(?:filtered|translated|machine-translated|deduplicated|rewritten|rephrased|paraphrased|subsampled|sampled|cleaned|curated)\b)"
    r"(?!\s+(?:and\s+[\w-]+\s+)?(?:web\s+)?(?:dataset|corpus|crawl))", re.IGNORECASE)
# A prompt format or chat template named after a dataset: "the Alpaca format", "Alpaca-style
# prompts", "ShareGPT style", "Prompt template: Alpaca".
_FORMAT_AFTER = re.compile(r"^[\s*_`'\"]*(?:-\s*|\s+)?(?:style[ds]?\s+|like\s+)?(?:instruction\s+|chat\s+|prompt(?:ing)?\s+|"
                           r"conversation(?:al)?\s+|dialogue\s+|input\s+)?(?:format(?:s|ted|ting)?|templates?|prompts?|syntax|style)\b",
                           re.IGNORECASE)
_FORMAT_BEFORE = re.compile(r"\b(?:formats?|templates?|style|prompts?)\s*[:=]\s*[*_`'\"]*$|\b(?:format|style)\s+(?:of|like)\s+"
                            r"(?:the\s+)?$", re.IGNORECASE)
# ... or a clause about formatting prompts that says nothing of training ("It understands ChatML and
# Alpaca prompts", "Format your input with the Vicuna template or the Alpaca one").
_FORMAT_WORD = re.compile(r"\b(?:format\w*|templates?|prompts?|prompting|chat\s*ml|special\s+tokens)\b", re.IGNORECASE)
_TRAINED_WORD = re.compile(r"\b(?:train\w*|pre-?train\w*|fine-?tun\w*|finetun\w*|tuned|data|datasets?|examples|samples|"
                           r"corpus|corpora|instructions|conversations)\b", re.IGNORECASE)


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
        for number, start, end in matches:
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
    left, right = clause_span(line, start, end)
    if _ELSEWHERE.search(line[left:right]):
        return True
    before = line[left:start]
    cues = [(m.end(), "eval") for m in _EVALUATION_CUE.finditer(before)] + \
           [(m.end(), "train") for m in _TRAINING_CUE.finditer(before)]
    nearest = max(cues, default=None)
    return bool(nearest and nearest[1] == "eval")


def _format_only(line: str, start: int, end: int) -> bool:
    left, right = clause_span(line, start, end)
    if _FORMAT_AFTER.match(line[end:]) or _FORMAT_BEFORE.search(line[left:start]):
        return True
    said = line[left:start] + " " + line[end:right]
    return bool(_FORMAT_WORD.search(said)) and not _TRAINED_WORD.search(said)


def _derived(line: str, start: int, end: int) -> str | None:
    """The words that make the mention only the source of the data (None when they do not; ''
    when the data made from it is itself named, a published dataset)."""
    left, right = clause_span(line, start, end)
    before = mask_urls(line[left:start])
    found = _DERIVED_BEFORE.search(before)
    if found:
        return "" if names_a_dataset(before[:found.start()]) else found.group("words")
    after = _DERIVED_AFTER.match(line[end:right])
    return after.group("words").strip(" ,") if after else None


_HUB_DATASET = re.compile(r"\bhuggingface\.co/datasets/|\b[A-Za-z0-9][\w.-]+/[\w.-]+\b(?<!\.\w)")


def names_a_dataset(text: str) -> bool:
    """The text names a known corpus or a Hub dataset (owner/name or a datasets link)."""
    return any(c.pattern.search(text) for c in corpora()) or bool(_HUB_DATASET.search(text))
