"""Classify each distinct shape of input once. Many models differ only in who they are: a
quantization bot's repos, an AutoTrain template, repos with no card at all have the same findings,
links and bases, but for their own id, commit and finding ids. Their cells are the same but for
those, so the rules run once per shape and each model's rows are filled in from the shape's.

That holds because of what the engine does with a model's identity, which tests/test_shapes.py
(a memo on and off give the same bytes, over worlds and over models made to look alike) and
tests/test_fast_path_cases.py (every rule case under two identities, both ways) keep true:
- finding ids and evidence (whose URLs name the model and its commit) are copied into cells,
  compared for equality and never read (evidence naming the model is a card's, with its URL, so
  it is never equal to a repo's, which has none);
- the id's words are read for training stages only (engine.named_stages), which is part of the
  shape;
- everything else the engine reads (taxonomy/inputs.py: values, links, bases' cells, tags) is
  part of the shape as it is.

Identity is taken out by markers no input can hold: control characters, which JSON text writes as
escapes (`\\u0000`). A model whose inputs hold any, or whose identity is not plain text (an id with
a quote, a finding id with a space), is classified on its own, as is every base a later level
needs the cells of.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from openness.classification.taxonomy.inputs import FINDING_ID, INPUTS, MARKED

MODEL, COMMIT = "\x00M\x01", "\x00S\x01"            # as the shape's dossier holds them
MODEL_JSON, COMMIT_JSON = "\\u0000M\\u0001", "\\u0000S\\u0001"  # as JSON text writes them
CONTROL_MARKS = ("\\u000", "\x00", "\x01")  # no input may hold these (JSON text: \u0000-\u000f escaped)
CONTROL_BYTES = tuple(mark.encode() for mark in CONTROL_MARKS)


def _spelling(start: str, end: str) -> tuple[str, str, re.Pattern]:
    """How a text spells the markers: their start and end, and finding n's pattern."""
    return start, end, re.compile(f"{re.escape(start)}F(\\d+){re.escape(end)}")


_PLAIN, _JSON = _spelling("\x00", "\x01"), _spelling("\\u0000", "\\u0001")
_FIELD_SPELLINGS = (_PLAIN, _JSON)  # in a row's fields: plain texts and JSON texts
_PRINTED_SPELLINGS = tuple(_spelling(repr(start)[1:-1], repr(end)[1:-1]) for start, end, _ in _FIELD_SPELLINGS)  # repr
# what an identity may be to be written into JSON text as it is (JSON escapes none of these)
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+\Z")
_PLAIN_COMMIT = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{16,64}\Z")  # a letter: never read as a number
_PLAIN_FINDING = re.compile(r"[A-Za-z0-9._:-]+\Z")


def finding_marker(n: int) -> str:
    return f"\x00F{n}\x01"


@dataclass
class Shape:
    """A model's inputs with its identity taken out (`key`), and what the shape's dossier reads in
    its place: the stages its id names, its rows with identity marked (a finding id as its
    marker's number, evidence with the id and commit marked), and what was taken out."""
    key: tuple
    stages: frozenset[str]          # engine.named_stages of the model (in the key too)
    finding_ids: list[str]          # marker n -> the model's n-th distinct finding id
    rows: dict                      # input name -> its rows, identity marked


def shape_of(model_id: str, sha: str, stages: frozenset[str], rows: dict[str, list[tuple]], bases: tuple) -> Shape | None:
    """The shape of a model whose id and tags name `stages`, whose rows of each input (inputs.py,
    fields in their declared order, JSON still text) are `rows` and whose bases' cells are `bases`
    ((base, digest) pairs), or None when it must be classified on its own. None of its inputs
    may hold a control character (`holds_control`, which the caller asks once for many)."""
    if not (_PLAIN_ID.match(model_id) and _PLAIN_COMMIT.match(sha)):
        return None
    numbers: dict[str, int] = {}
    marked_rows, parts = {}, []
    for declared in INPUTS:
        marked = []
        for row in rows.get(declared.name, ()):
            fields = []
            for field, value in zip(declared.fields, row):
                if field.identity == FINDING_ID:
                    if not (isinstance(value, str) and _PLAIN_FINDING.match(value)):
                        return None
                    value = numbers.setdefault(value, len(numbers))
                elif field.identity == MARKED:
                    if not isinstance(value, str):
                        return None
                    value = value.replace(sha, COMMIT_JSON).replace(model_id, MODEL_JSON)
                elif value.__class__ is list:
                    value = tuple(value)
                fields.append(value)
            marked.append(tuple(fields))
        marked_rows[declared.name] = marked
        parts.append(tuple(marked))
    return Shape((stages, tuple(parts), bases), stages, list(numbers), marked_rows)


def holds_control(texts) -> bool:
    """Whether any of these texts holds a control character (JSON text: as an escape), which a
    marker could not be told from."""
    joined = "\x02".join(t for t in texts if isinstance(t, str))
    return any(mark in joined for mark in CONTROL_MARKS)


class ShapeMemo:
    """The shapes a process classified lately, with their rows: kept while the rules and the
    classifier stay the same, the `limit` used last (a shape holds ~14 KB, its key included), so
    a worker's memory stays bounded on a warehouse of a million different models."""

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
    its cells. Every row starts with the model id and the commit; each later field that holds a
    marker is made a format string once (the model id {0}, the commit {1}, finding n {n+2}), so
    filling a row in is a format call per such field."""
    rows: list[tuple]      # each row's fields after the model id and the commit
    formats: list[tuple]   # per row: (index in its fields, format string, or a list of them for a list field)
    printed: str           # the rows' repr, for their fingerprint, as a format string
    summary: dict
    labels: list[str]

    @classmethod
    def of(cls, rows: list[tuple], summary: dict, labels: list[str]) -> "Template":
        if any(row[:2] != (MODEL, COMMIT) for row in rows):
            raise ValueError("a shape's rows start with the marked model id and commit")
        printed = [repr(row) for row in rows]
        formats = [tuple((i, _field_format(value)) for i, value in enumerate(row[2:]) if _has_marker(value))
                   if _marked_after_identity(text) else () for row, text in zip(rows, printed)]
        return cls([row[2:] for row in rows], formats, _as_format("".join(printed), _PRINTED_SPELLINGS), summary, labels)

    def fill(self, model_id: str, sha: str, finding_ids: list[str]) -> tuple[list[tuple], str]:
        """A model's rows, and their repr (`"".join(map(repr, rows))`, which their fingerprint is
        made of). The repr of a text with the identity in it is the repr of the marked text with
        the markers' repr replaced: an identity is plain text (no quote, no backslash, nothing
        repr escapes), and no input holds what a marker's repr looks like."""
        out, identity = [], (model_id, sha, *finding_ids)
        for fields, formats in zip(self.rows, self.formats):
            if formats:
                fields = list(fields)
                for i, fmt in formats:
                    fields[i] = fmt.format(*identity) if fmt.__class__ is str else [f.format(*identity) for f in fmt]
            out.append((model_id, sha, *fields))
        return out, self.printed.format(*identity)


def _marked_after_identity(printed: str) -> bool:
    """Whether a row's repr may hold a marker besides those of its model id and commit: most rows
    do not, and looking at their fields one by one costs more than their repr (a text that merely
    looks like a marker's repr is looked at too, and found to hold none)."""
    return printed.count(_PRINTED_SPELLINGS[0][0]) > 2 or _PRINTED_SPELLINGS[1][0] in printed


def _has_marker(value) -> bool:
    if value.__class__ is str:
        return _PLAIN[0] in value or _JSON[0] in value
    if value.__class__ is list:
        return any(_has_marker(v) for v in value)
    return False


def _field_format(value):
    """A field's format string, or a list of them for a list of texts."""
    if isinstance(value, list):
        return [_field_format(v) for v in value]
    return _as_format(value, _FIELD_SPELLINGS)


def _as_format(text: str, spellings: tuple) -> str:
    """A text as a format string: its braces doubled, its markers in these spellings made fields
    (the model id {0}, the commit {1}, finding n {n+2}). Plain replaces where they do: a pattern
    scanning the whole text costs twice as much, once per shape."""
    text = text.replace("{", "{{").replace("}", "}}")
    for start, end, finding in spellings:
        text = text.replace(f"{start}M{end}", "{0}").replace(f"{start}S{end}", "{1}")
        if f"{start}F" in text:
            text = finding.sub(lambda marker: "{%d}" % (int(marker[1]) + 2), text)
    return text
