"""Where a mention sits in its sentence: the clause around it, the parenthesis it is in, and whether
the clause says it is absent (removed, excluded, not used). Pure text helpers shared by the
extractors that read card prose: a link or a corpus name means what its clause says of it.

A clause ends at a sentence's end (., !, ?, ;) and where a second statement begins (", so",
", but", ", while", ", whereas", ", although"); URLs are masked first, so the dots in them do not
end anything.
"""
from __future__ import annotations

import bisect
import functools
import re

_URL = re.compile(r"https?://[^\s)\]>\"']+")
# Abbreviations whose full stop ends no sentence.
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|et al|vs|cf|approx|incl|resp|fig|no|ca)\.", re.IGNORECASE)
_BOUNDARY = re.compile(r"[.!?;](?=\s|$)|,\s+(?:so|but|while|whereas|although|though|yet)\b|\s+(?:but|whereas)\s+",
                       re.IGNORECASE)
# Words that turn a mention around when they govern it: before it, a few words away ...
_NEGATION_BEFORE = re.compile(
    r"\b(?:not|never|no|without|except(?:\s+for)?|excluding|exclud(?:e|ed|es)|remov(?:e|ed|es|ing)|"
    r"filter(?:ed|ing)?\s+out|drop(?:ped|ping)?|discard(?:ed|ing)?|omit(?:ted|ting)?|none\s+of|nor|"
    r"did\s*n[o']t|does\s*n[o']t|do\s*n[o']t|instead\s+of|rather\s+than)\b(?:[ \t]+[\w'-]+){0,6}?[ \t*_\[(\"']*$",
    re.IGNORECASE)
# ... or after it, as what happened to it ("Wikipedia pages were removed")
_NEGATION_AFTER = re.compile(
    r"^(?:\W+\w+){0,4}?\W+(?:(?:was|were|is|are|has\s+been|have\s+been|being|got)\s+)?"
    r"(?:removed|excluded|filtered(?:\s+out)?|dropped|discarded|omitted|withheld|not\s+(?:used|included))\b",
    re.IGNORECASE)


def mask_urls(text: str) -> str:
    """The text with each URL replaced by as many 'U's and the full stop of an abbreviation
    (e.g., et al.) by '_': offsets stay, and neither ends a clause."""
    text = _URL.sub(lambda m: "U" * len(m.group(0)), text)
    return _ABBREVIATION.sub(lambda m: m.group(0)[:-1] + "_", text)


# How far a clause reaches on each side of a mention, in characters. A reader takes in a mention's
# clause at a glance; a "clause" of thousands of characters (a line of hundreds of links and no full
# stop) is no sentence, and reading all of it again for each of its mentions made extraction
# quadratic in the mentions on a line (800 links on a line: a minute).
READ_AROUND = 400


def clause_span(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """Offsets of the clause of `text` that holds text[start:end], at most READ_AROUND characters
    on either side of it."""
    end = start if end is None else end
    starts, ends = _boundaries(text)
    before = bisect.bisect_right(ends, start)  # the boundaries that end at or before the mention
    after = bisect.bisect_left(starts, end, before)  # the first that starts at or after its end
    left, right = (ends[before - 1] if before else 0), (starts[after] if after < len(starts) else len(text))
    return max(left, start - READ_AROUND), min(right, end + READ_AROUND)


@functools.lru_cache(maxsize=32)
def _boundaries(text: str) -> tuple[list[int], list[int]]:
    """The starts and the ends of the clause boundaries of a line, found once: the extractors ask
    for the clause of every mention on a line, and a card's line can run to megabytes."""
    found = list(_BOUNDARY.finditer(mask_urls(text)))
    return [b.start() for b in found], [b.end() for b in found]


def clause(text: str, start: int, end: int | None = None) -> str:
    left, right = clause_span(text, start, end)
    return text[left:right].strip()


def parenthetical(text: str, start: int) -> str:
    """The innermost '( ... )' holding offset `start` (URLs masked), or '' when there is none,
    within READ_AROUND characters of it. A markdown link's own '(url)' does not count."""
    offset = max(0, start - READ_AROUND)
    return _parenthetical(text[offset:start + READ_AROUND], start - offset)


def _parenthetical(text: str, start: int) -> str:
    masked = mask_urls(text)
    depth_open: list[int] = []
    spans = []
    for index, char in enumerate(masked):
        if char == "(":
            depth_open.append(index)
        elif char == ")" and depth_open:
            opened = depth_open.pop()
            spans.append((opened, index))
    holding = [(a, b) for a, b in spans if a < start <= b and not (a > 0 and masked[a - 1] == "]")]
    if not holding:
        return ""
    a, b = max(holding)  # the innermost one opens last
    return text[a + 1:b]


def negated(text: str, start: int, end: int) -> str | None:
    """The words that say the mention at text[start:end] is absent (removed, excluded, not used),
    within its clause; None when its clause states it positively."""
    left, right = clause_span(text, start, end)
    before = mask_urls(text[left:start])
    after = text[end:right]
    found = _NEGATION_BEFORE.search(before)
    if found:
        return before[found.start():].strip()
    found = _NEGATION_AFTER.search(after)
    if found:
        return (text[start:end] + after[:found.end()]).strip()
    return None
