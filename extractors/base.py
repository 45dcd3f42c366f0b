"""Findings and their evidence, and the record every extractor reads.

Extractors are pure: a ModelRecord in, findings out; no network, no database. Every finding
carries the evidence that supports it, down to the file, the lines and the verbatim snippet.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from openness.extractors import locations


@dataclass(frozen=True)
class Evidence:
    url: str | None           # the public page of that file at those lines (extractors/locations.py), or the API's
    path: str | None          # the repo path ('README.md', 'config.json'), or None for API metadata
    line_start: int | None    # 1-based, inclusive; None when the evidence is a file's presence
    line_end: int | None
    snippet: str              # verbatim from that path and those lines (or the file's path), at most SNIPPET_MAX
    extractor: str
    version: str
    column: int | None = None  # 1-based column of the snippet's start in line_start when the lines were cut
    # where it is, whatever endpoint it was read from: model, dataset or code; the repo's id
    # (github.com/owner/name for code); the revision read (a commit, or a code repo's tree)
    source: str | None = None
    repo: str | None = None
    revision: str | None = None


@dataclass(frozen=True)
class Finding:
    model_id: str
    sha: str
    signal: str               # e.g. weights.formats, licence.declared
    value: object             # JSON-able
    confidence: float         # 0..1: how sure the extractor is that the value is right
    evidence: tuple[Evidence, ...]

    @property
    def finding_id(self) -> str:
        key = json.dumps([self.model_id, self.sha, self.signal, self.value,
                          self.evidence[0].extractor if self.evidence else ""], sort_keys=True, default=str)
        return hashlib.sha1(key.encode()).hexdigest()[:20]

    def as_row(self) -> dict:
        return {"finding_id": self.finding_id, "model_id": self.model_id, "sha": self.sha, "signal": self.signal,
                "value": json.dumps(self.value, sort_keys=True, default=str), "confidence": self.confidence,
                "extractor": self.evidence[0].extractor if self.evidence else None,
                "extractor_version": self.evidence[0].version if self.evidence else None,
                "evidence": json.dumps([asdict(e) for e in self.evidence], sort_keys=True)}


@dataclass(frozen=True)
class Document:
    path: str
    url: str | None
    text: str | None


@dataclass
class ModelRecord:
    """What the crawl stored of one model commit."""
    model_id: str
    sha: str
    info: dict = field(default_factory=dict)                  # the listing payload
    files: list[dict] = field(default_factory=list)           # {path, size, lfs_sha256}
    documents: dict[str, Document] = field(default_factory=dict)
    kind: str = "model"  # what the record is (model, dataset, or code: a code repository read as one)
    # what it derives from (extractors/lineage.py), read once for the extractors that ask
    lineage: object = field(default=None, repr=False, compare=False)
    lineage_read: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_rows(cls, model: dict, files: list[dict], documents: list[dict]):
        """A record from warehouse-shaped rows (the crawl's items, or rows read back)."""
        try:
            info = json.loads(model.get("info") or "{}")
        except ValueError:
            info = {}
        docs = {d["path"]: Document(d["path"], d.get("url"), d.get("text")) for d in documents}
        return cls(model["model_id"], model["sha"], info if isinstance(info, dict) else {},
                   [{"path": f["path"], "size": f.get("size"), "lfs_sha256": f.get("lfs_sha256"),
                     "unread": f.get("unread")} for f in files],
                   docs)

    @property
    def card_data(self) -> dict:
        card = self.info.get("cardData")
        return card if isinstance(card, dict) else {}

    @property
    def tags(self) -> list[str]:
        """The Hub's tags; a payload's odd value (card YAML reaches it with any type) gives none."""
        tags = self.info.get("tags")
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    @property
    def paths(self) -> list[str]:
        """Sorted, so that findings do not depend on the order files were stored or read in."""
        return sorted(f["path"] for f in self.files)

    def readme(self) -> Document | None:
        return self.documents.get("README.md")


# Evidence shows this many characters at most: a line of a minified or one-line README can run to
# megabytes, and a snippet is for reading, not for storing the document again.
SNIPPET_MAX = 400


def cap_snippet(text: str, focus_start: int = 0, focus_end: int = 0) -> tuple[str, int, int | None]:
    """(text, 0, None) when short enough; else (at most SNIPPET_MAX characters of text around
    text[focus_start:focus_end], the number of lines of text before them, the 1-based column where
    they start in their first line)."""
    if len(text) <= SNIPPET_MAX:
        return text, 0, None
    focus_end = min(max(focus_end, focus_start), len(text))
    room = max(0, SNIPPET_MAX - (focus_end - focus_start))
    begin = max(0, min(focus_start - room // 2, len(text) - SNIPPET_MAX))
    return text[begin: begin + SNIPPET_MAX], text.count("\n", 0, begin), begin - text.rfind("\n", 0, begin)


class Located:
    """Evidence builder for one extractor: points at files, at card keys, at lines of text."""

    def __init__(self, record: ModelRecord, extractor: str, version: str):
        self.record, self.extractor, self.version = record, extractor, version

    def file(self, path: str) -> Evidence:
        return self._at(path, None, None, path)

    def lines(self, path: str, start: int, end: int, focus: tuple[int, int] | None = None) -> Evidence:
        """Evidence for lines start..end of a document; cut to SNIPPET_MAX characters around focus
        (offsets within those lines' text) when longer."""
        doc = self.record.documents[path]
        lines = doc.text.splitlines()
        snippet, skipped, column = cap_snippet("\n".join(lines[start - 1:end]), *(focus or (0, 0)))
        if column is not None:  # cut: the lines and column of what is shown
            start += skipped
            end = start + snippet.count("\n")
        return self._at(path, start, end, snippet, column)

    def match(self, path: str, offset_start: int, offset_end: int) -> Evidence:
        """Evidence for the lines that hold text[offset_start:offset_end] of a document."""
        text = self.record.documents[path].text
        start = text.count("\n", 0, offset_start) + 1
        end = text.count("\n", 0, max(offset_start, offset_end - 1)) + 1
        line_start = text.rfind("\n", 0, offset_start) + 1
        return self.lines(path, start, end, (offset_start - line_start, offset_end - line_start))

    def card_key(self, key: str) -> Evidence:
        """The README front matter line that sets `key`, or the API's cardData when no line is found."""
        readme = self.record.readme()
        if readme and readme.text:
            block = front_matter_span(readme.text)
            if block:
                pattern = re.compile(rf"^{re.escape(key)}\s*:", re.MULTILINE)
                found = pattern.search(readme.text, block[0], block[1])
                if found:
                    return self.match("README.md", found.start(), _value_end(readme.text, found.end(), block[1]))
        return self._at(None, None, None, f"cardData.{key}")

    def info_key(self, key: str) -> Evidence:
        value = json.dumps(self.record.info.get(key), sort_keys=True, default=str)[:200]
        return self._at(None, None, None, f"{key}: {value}")

    def _at(self, path: str | None, start: int | None, end: int | None, snippet: str,
            column: int | None = None) -> Evidence:
        return located(self.record, path, start, end, snippet, self.extractor, self.version, column)


def located(record: ModelRecord, path: str | None, start: int | None, end: int | None, snippet: str,
            extractor: str, version: str, column: int | None = None) -> Evidence:
    """Evidence in a record's file (or, path None, in its metadata), with where it is: the record's
    repo and revision, and the public address built from them (never the address it was read from)."""
    kind, repo, revision = record.kind, record.model_id, record.sha
    url = (locations.file_url(kind, repo, revision, path, start, end) if path
           else locations.repo_url(kind, repo) if kind == "code" else locations.info_url(kind, repo, revision))
    return Evidence(url, path, start, end, snippet, extractor, version, column, kind, repo, revision)


def front_matter_span(text: str) -> tuple[int, int] | None:
    """Offsets of the YAML block between the opening and closing '---' lines (the Hub's rule)."""
    match = re.match(r"^\ufeff?(\s*---[ \t]*\r?\n)([\s\S]*?)(\r?\n---[ \t]*(\r?\n|$))", text)
    return (match.start(2), match.end(2)) if match else None


def _value_end(text: str, after_key: int, limit: int) -> int:
    """Where a YAML key's value ends: its line, plus indented or list continuation lines."""
    end = text.find("\n", after_key)
    end = limit if end < 0 or end > limit else end
    while end < limit:
        nxt = text.find("\n", end + 1)
        nxt = limit if nxt < 0 or nxt > limit else nxt
        line = text[end + 1:nxt]
        if line.strip() and not line.startswith((" ", "\t", "-")):
            break
        if not line.strip():
            break
        end = nxt
    return end


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$|^\s*\*\*([^*]{2,80})\*\*:?\s*$|<h[1-6][^>]*>(.+?)</h[1-6]>",
                      re.IGNORECASE)


def headings(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of every heading: Markdown ATX and setext, a bold line, HTML <hN>.
    Several extractors read the same card's headings: the answer is kept for the last few texts."""
    return list(_headings_of("\n".join(lines)))


@functools.lru_cache(maxsize=16)
def _headings_of(text: str) -> tuple[tuple[int, str], ...]:
    return tuple(_find_headings(text.split("\n")))


def _find_headings(lines: list[str]) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(lines, 1):
        match = _HEADING.search(line)
        if match:
            found.append((number, re.sub(r"<[^>]+>|[*_`]", "", next(g for g in match.groups()[1:] if g)).strip()))
        elif number > 1 and re.fullmatch(r"\s*(=+|-+)\s*", line) and lines[number - 2].strip() and len(line.strip()) >= 3:
            found.append((number - 1, lines[number - 2].strip()))  # setext heading
    return found


def heading_above(found: list[tuple[int, str]], number: int) -> str:
    """The text of the nearest heading at or above a line ('' when there is none)."""
    index = bisect.bisect_right([line for line, _ in found], number)  # found is in line order
    return found[index - 1][1] if index else ""


def mentions(lines: list[str], items):
    """For each item that can match (none of the texts every match of it must contain is missing),
    (index, item, its matches in text order as (line number, start, end), offsets within the line).
    One search over the text per item, not one per line: cards run to megabytes."""
    text = "\n".join(lines)  # lines hold no separators, so "\n" counts give splitlines' numbering
    lowered = text.lower()
    for index, item in enumerate(items):
        anchors = getattr(item, "anchors", None)
        if anchors is not None and not any(anchor in lowered for anchor in anchors):
            continue
        yield index, item, _located(text, item.pattern.finditer(text))


def _located(text: str, matches):
    for match in matches:
        line_start = text.rfind("\n", 0, match.start()) + 1
        yield text.count("\n", 0, match.start()) + 1, match.start() - line_start, match.end() - line_start


def first_mentions(lines: list[str], items) -> list[tuple[int, object, int, int]]:
    """(line number, item, start, end) for each item whose `.pattern` matches, at its first match,
    in line order."""
    found = []
    for index, item, matches in mentions(lines, items):
        first = next(matches, None)
        if first:
            found.append((first[0], index, item, first[1], first[2]))
    return [(number, item, start, end) for number, _, item, start, end in sorted(found, key=lambda f: f[:2])]
