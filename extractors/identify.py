"""Naming the licence of a text, offline, without guessing.

Two matchers, each for what it knows: licenseclassifier (844 SPDX templates, pure Python, returns
nothing rather than a weak guess) for SPDX licences, and the knowledge base's fingerprints (phrases
every copy of a licence carries) for AI licences, which have no SPDX id. Results are cached by the
hash of the normalised text: licence files repeat endlessly across the Hub.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field

import licenseclassifier

from openness.extractors.knowledge import Licence, knowledge

CACHE_SIZE = 50_000
# licenseclassifier looks at texts its templates cover at least this much...
MIN_COVERAGE = 0.6
# ...and a licence is named only when its own template covers this share of the text: below it,
# the text holds more than that licence (LGPL-3.0 carries the GPL-3.0 after it), and unknown beats
# a wrong id (benchmarks/licenses.py: 3 wrong answers fewer, 1 right answer fewer, of 708).
NAMED_COVERAGE = 0.82
# An SPDX licence named by its fingerprints alone (its template did not match the whole text).
PARTIAL_SCORE = 0.8


@dataclass(frozen=True)
class Match:
    licence_id: str | None   # the knowledge base's id, when it knows the licence
    spdx_id: str
    score: float             # 0..1: share of the text covered, or 1.0 for every fingerprint present
    method: str              # licenseclassifier or fingerprint


@dataclass(frozen=True)
class Identification:
    matches: tuple[Match, ...] = field(default_factory=tuple)

    @property
    def best(self) -> Match | None:
        """The highest score; on a tie the template match, which checks the whole text."""
        return max(self.matches, key=lambda m: (m.score, m.method == "licenseclassifier")) if self.matches else None

    @property
    def licence_id(self) -> str | None:
        best = self.best
        return best.licence_id if best else None


def normalise(text: str) -> str:
    """Lower case, one space between words, quotes and dashes unified, Markdown markers dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCTUATION).lower()
    text = re.sub(r"[#*_>`|]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_PUNCTUATION = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-",
                              "\u2014": "-", "\u00a0": " "})


class Identifier:
    """Identifies licence texts; one instance keeps its cache across calls."""

    def __init__(self, cache_size: int = CACHE_SIZE):
        self.cache: OrderedDict[bytes, Identification] = OrderedDict()
        self.cache_size = cache_size
        self.hits = 0

    def identify(self, text: str) -> Identification:
        # Byte-identical copies are the common case and skip normalising; copies that differ only
        # in whitespace or Markdown meet again under the normalised key.
        raw_key = b"r" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
        result = self._cached(raw_key)
        if result is not None:
            return result
        normalised = normalise(text)
        key = b"n" + hashlib.sha1(normalised.encode()).digest()
        result = self._cached(key)
        if result is None:
            spdx = _spdx_matches(text)
            result = Identification(tuple(_fingerprint_matches(normalised, with_spdx=not spdx)) + tuple(spdx))
            self._store(key, result)
        self._store(raw_key, result)
        return result

    def _cached(self, key: bytes) -> Identification | None:
        result = self.cache.get(key)
        if result is not None:
            self.hits += 1
            self.cache.move_to_end(key)
        return result

    def _store(self, key: bytes, result: Identification) -> None:
        self.cache[key] = result
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)


def _spdx_matches(text: str) -> list[Match]:
    if not text.strip():
        return []
    regions = licenseclassifier.identify_license(text, coverage_threshold=MIN_COVERAGE * 100)
    covered: dict[str, int] = {}
    for region in regions:
        covered[region.id] = covered.get(region.id, 0) + region.end - region.start
    size = len(text.strip()) or 1
    out = []
    for spdx_id, chars in covered.items():
        coverage = round(min(1.0, chars / size), 3)
        if coverage < NAMED_COVERAGE:
            continue
        licence = _by_spdx().get(_spdx_key(spdx_id))
        out.append(Match(licence.id if licence else None, spdx_id, coverage, "licenseclassifier"))
    return out


def _fingerprint_matches(normalised: str, with_spdx: bool) -> list[Match]:
    """Licences all of whose fingerprints the text holds. SPDX licences are named this way only
    when the templates found nothing (a truncated copy, say), and with a lower score."""
    out = []
    for licence, phrases in _fingerprints():
        spdx = not licence.spdx_id.startswith("LicenseRef-") and licence.kind != "model"
        if (with_spdx or not spdx) and phrases and all(p in normalised for p in phrases):
            out.append(Match(licence.id, licence.spdx_id, PARTIAL_SCORE if spdx else 1.0, "fingerprint"))
    # a licence whose phrases contain another's (llama3.1 over llama3, say) is the better name
    return [m for m in out if not any(o is not m and _more_specific(o, m) for o in out)]


def _more_specific(a: Match, b: Match) -> bool:
    phrases = {licence.id: found for licence, found in _fingerprints()}
    return sum(map(len, phrases[a.licence_id])) > sum(map(len, phrases[b.licence_id]))


@functools.cache
def _fingerprints() -> tuple[tuple[Licence, tuple[str, ...]], ...]:
    """A family names no one text, so families are never matched."""
    return tuple((l, tuple(normalise(p) for p in l.fingerprints)) for l in knowledge().values()
                 if l.fingerprints and not l.family)


@functools.cache
def _by_spdx() -> dict[str, Licence]:
    return {_spdx_key(l.spdx_id): l for l in knowledge().values() if not l.spdx_id.startswith("LicenseRef-")}


def _spdx_key(spdx_id: str) -> str:
    return re.sub(r"-(only|or-later)$", "", spdx_id.lower())


@functools.cache
def default_identifier() -> Identifier:
    return Identifier()
