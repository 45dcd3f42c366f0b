"""The findings vocabulary (data/signals.yml): every signal, the extractor that emits it, its
value's shape and the modules that read it. Loaded and validated here; tests hold the extractors
and the readers to it."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from openness.extractors.errors import KnowledgeError

EXTRACTOR_NAMES = ("weights", "licenses", "training_data", "code", "evaluation", "papers", "code_repos", "any")
VALUE_TYPES = {"object": dict, "list": list, "int": int, "str": str}
_FIELDS = {"signal", "extractor", "value", "read_by", "about"}


@dataclass(frozen=True)
class Signal:
    name: str
    extractor: str
    value_type: str
    keys: frozenset[str]
    read_by: tuple[str, ...]
    about: str

    def value_problem(self, value) -> str | None:
        """Why value does not fit this signal's shape, or None."""
        expected = VALUE_TYPES[self.value_type]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"{self.name}: a {type(value).__name__} where {self.value_type} was declared"
        if expected is dict and set(value) - self.keys:
            return f"{self.name}: keys {sorted(set(value) - self.keys)} not declared"
        return None


@functools.cache
def vocabulary() -> dict[str, Signal]:
    try:
        entries = yaml.safe_load((resources.files("openness.extractors") / "data" / "signals.yml").read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"signals.yml: not YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(entries, list):
        raise KnowledgeError("signals.yml: expected a list of signals")
    signals: dict[str, Signal] = {}
    for entry in entries:
        signal = _parse(entry)
        if signal.name in signals:
            raise KnowledgeError(f"signals.yml: {signal.name} twice")
        signals[signal.name] = signal
    return signals


def _parse(entry) -> Signal:
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise KnowledgeError(f"signals.yml: each entry has exactly {sorted(_FIELDS)}: {entry!r:.200}")
    name, value = entry["signal"], entry["value"]
    if entry["extractor"] not in EXTRACTOR_NAMES:
        raise KnowledgeError(f"signals.yml: {name}: unknown extractor {entry['extractor']!r}")
    if not isinstance(value, dict) or value.get("type") not in VALUE_TYPES:
        raise KnowledgeError(f"signals.yml: {name}: value.type is one of {sorted(VALUE_TYPES)}")
    if (value["type"] == "object") != ("keys" in value):
        raise KnowledgeError(f"signals.yml: {name}: an object value lists its keys, and only an object does")
    if not isinstance(entry["read_by"], list) or not all(isinstance(m, str) for m in entry["read_by"]):
        raise KnowledgeError(f"signals.yml: {name}: read_by is a list of module names")
    return Signal(name, entry["extractor"], value["type"], frozenset(value.get("keys", ())), tuple(entry["read_by"]),
                  str(entry["about"]))
