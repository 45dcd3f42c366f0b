"""Classify each distinct shape of input once. Many models differ only in who they are: a
quantization bot's repos, an AutoTrain template, repos with no card at all have the same findings,
links and bases, but for their own id, commit and finding ids. Their cells are the same but for
those, so the rules run once per shape and each model's rows are filled in from the shape's.

That holds because of what the engine does with a model's identity, which tests/test_shapes.py
keeps true (a memo on and off give the same bytes, over worlds and over models made to look alike):
- finding ids and evidence (whose URLs name the model and its commit) are copied into cells,
  compared for equality and never read (evidence naming the model is a card's, with its URL, so
  it is never equal to a repo's, which has none);
- the id's words are read for training stages only (engine.named_stages), which is part of the
  shape;
- everything else (values, links, bases' cells, tags) is part of the shape as it is.

Identity is taken out by markers no input can hold: control characters, which JSON text writes as
escapes (`\\u0000`). A model whose inputs hold any, or whose identity is not plain text (an id with
a quote, a finding id with a space), is classified on its own, as is every base a later level
needs the cells of.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MODEL, COMMIT = "\x00M\x01", "\x00S\x01"            # as the shape's dossier holds them
MODEL_JSON, COMMIT_JSON = "\\u0000M\\u0001", "\\u0000S\\u0001"  # as JSON text writes them
CONTROL, CONTROL_JSON = ("\x00", "\x01"), "\\u000"  # no input may hold these (JSON: \u0000-\u000f)
CONTROL_BYTES = tuple(mark.encode() for mark in (CONTROL_JSON, *CONTROL))
_FINDING_JSON = re.compile(r"\\u0000F(\d+)\\u0001")
_MARKED_FINDING = re.compile("\x00F(\\d+)\x01")
_REPR_FINDING = tuple(re.compile(re.escape(repr(start)[1:-1]) + r"(\d+)" + re.escape(repr(end)[1:-1]))
                      for start, end in (("\x00F", "\x01"), ("\\u0000F", "\\u0001")))
# what an identity may be to be written into JSON text as it is (JSON escapes none of these)
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+\Z")
_PLAIN_COMMIT = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{16,64}\Z")  # a letter: never read as a number
_PLAIN_FINDING = re.compile(r"[A-Za-z0-9._:-]+\Z")


def finding_marker(n: int) -> str:
    return f"\x00F{n}\x01"


@dataclass
class Shape:
    """A model's inputs with its identity taken out (`key`), what was taken out, and the evidence
    texts as the shape's dossier reads them."""
    key: tuple
    finding_ids: list[str]          # marker n -> the model's n-th distinct finding id
    evidence: list[str]             # the findings' evidence texts, identity marked


def shape_of(model_id: str, sha: str, parts: tuple, findings: list[tuple]) -> Shape | None:
    """The shape of a model whose other inputs are `parts` (hashable, identity-free: its info,
    stage words, links, papers, bases), or None when it must be classified on its own.
    `findings`: (finding id, signal, value text, confidence, evidence text) rows. None of its
    inputs may hold a control character (`holds_control`, which the caller asks once for many)."""
    if not (_PLAIN_ID.match(model_id) and _PLAIN_COMMIT.match(sha)):
        return None
    numbers: dict[str, int] = {}
    rows, evidence = [], []
    for finding_id, signal, value, confidence, raw in findings:
        if not (isinstance(finding_id, str) and _PLAIN_FINDING.match(finding_id) and isinstance(raw, str)):
            return None
        marked = raw.replace(sha, COMMIT_JSON).replace(model_id, MODEL_JSON)
        rows.append((numbers.setdefault(finding_id, len(numbers)), signal, value, confidence, marked))
        evidence.append(marked)
    return Shape((parts, tuple(rows)), list(numbers), evidence)


def holds_control(texts) -> bool:
    """Whether any of these texts holds a control character (JSON text: as an escape), which a
    marker could not be told from."""
    joined = "\x02".join(t for t in texts if isinstance(t, str))
    return CONTROL_JSON in joined or CONTROL[0] in joined or CONTROL[1] in joined


class ShapeMemo:
    """The shapes a process classified lately, with their rows: kept while the rules and the
    classifier stay the same, the `limit` used last (a shape holds ~20 KB), so a worker's memory
    stays bounded on a warehouse of a million different models."""

    def __init__(self, limit: int = 4096):
        self.limit, self.scope, self.templates = limit, None, {}

    def scoped(self, the_rules, classifier_version: str) -> "ShapeMemo":
        scope = (id(the_rules), the_rules.version, classifier_version)
        if scope != self.scope:
            self.scope, self.templates = scope, {}
        return self

    def get(self, key: tuple) -> "Template | None":
        template = self.templates.pop(key, None)
        if template is not None:
            self.templates[key] = template  # the last used go last
        return template

    def keep(self, key: tuple, template: "Template") -> None:
        if len(self.templates) >= self.limit:
            del self.templates[next(iter(self.templates))]  # the one used longest ago
        self.templates[key] = template


@dataclass
class Template:
    """A shape's rows (CELL_COLUMNS' order, identity marked) and what a model's summary takes of
    its cells. Each field that holds a marker is made a format string once (the model id {0}, the
    commit {1}, finding n {n+2}), so filling a row in is a format call per such field."""
    rows: list[tuple]
    formats: list[tuple]   # per row: (field index, format string, or a list of them for a list field)
    printed: str           # the rows' repr, for their fingerprint, as a format string
    summary: dict
    labels: list[str]

    @classmethod
    def of(cls, rows: list[tuple], summary: dict, labels: list[str]) -> "Template":
        formats = []
        for row in rows:
            formats.append(tuple((i, _format(value)) for i, value in enumerate(row)
                                 if value.__class__ in (str, list) and _has_marker(value)))
        return cls(rows, formats, _printed_format("".join(map(repr, rows))), summary, labels)

    def fill(self, model_id: str, sha: str, finding_ids: list[str]) -> tuple[list[tuple], str]:
        """A model's rows, and their repr (`"".join(map(repr, rows))`, which their fingerprint is
        made of). The repr of a text with the identity in it is the repr of the marked text with
        the markers' repr replaced: an identity is plain text (no quote, no backslash, nothing
        repr escapes), and no input holds what a marker's repr looks like."""
        out = []
        for row, formats in zip(self.rows, self.formats):
            if formats:
                row = list(row)
                for i, fmt in formats:
                    row[i] = fmt.format(model_id, sha, *finding_ids) if isinstance(fmt, str) else \
                        [f.format(model_id, sha, *finding_ids) for f in fmt]
                row = tuple(row)
            out.append(row)
        return out, self.printed.format(model_id, sha, *finding_ids)


def _has_marker(value) -> bool:
    if isinstance(value, str):
        return CONTROL[0] in value or "\\u0000" in value
    if isinstance(value, list):
        return any(_has_marker(v) for v in value)
    return False


def _printed_format(printed: str) -> str:
    """The rows' repr as a format string: as _format, with the markers as repr writes them."""
    printed = printed.replace("{", "{{").replace("}", "}}")
    for marker, field in ((MODEL, "{0}"), (COMMIT, "{1}"), (MODEL_JSON, "{0}"), (COMMIT_JSON, "{1}")):
        printed = printed.replace(repr(marker)[1:-1], field)
    for pattern in _REPR_FINDING:
        printed = pattern.sub(lambda m: "{%d}" % (int(m[1]) + 2), printed)
    return printed


def _format(value):
    """A field's format string (a list of them for a list of texts): its braces doubled, its
    markers, plain or as JSON text writes them, made fields."""
    if isinstance(value, list):
        return [_format(v) for v in value]
    value = value.replace("{", "{{").replace("}", "}}")
    value = value.replace(MODEL, "{0}").replace(COMMIT, "{1}").replace(MODEL_JSON, "{0}").replace(COMMIT_JSON, "{1}")
    if "\x00F" in value:
        value = _MARKED_FINDING.sub(lambda m: "{%d}" % (int(m[1]) + 2), value)
    if "\\u0000F" in value:
        value = _FINDING_JSON.sub(lambda m: "{%d}" % (int(m[1]) + 2), value)
    return value
