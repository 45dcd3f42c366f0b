"""Reading the data-driven cases (tests/cases/*/*.yml), each a case or, with `phrasings`, several.

A rule must hold however a card words it, so a case can give the words it is about as a list:

    phrasings:
    - 'Wren was trained using [Quill](https://github.com/quill-ml/quill).'
    - 'We trained Wren with the [Quill](https://github.com/quill-ml/quill) codebase.'

Each phrasing is a case of its own: `{phrase}` anywhere in the case (its documents, what its links
led to, its expectations) is replaced by it. A case without phrasings is one case, as written.
"""
from __future__ import annotations

from pathlib import Path

import yaml

CASES = Path(__file__).parent / "cases"
PLACEHOLDER = "{phrase}"


def _filled(value, phrase: str):
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, phrase)
    if isinstance(value, list):
        return [_filled(v, phrase) for v in value]
    if isinstance(value, dict):
        return {_filled(k, phrase): _filled(v, phrase) for k, v in value.items()}
    return value


def expand(path: Path) -> list[tuple[str, dict]]:
    """(test id, case) for each case a file holds."""
    case = yaml.safe_load(path.read_text("utf-8"))
    phrasings = case.pop("phrasings", None)
    if not phrasings:
        return [(path.stem, case)]
    if PLACEHOLDER not in yaml.safe_dump(case, width=10**6):
        raise ValueError(f"{path.name}: phrasings given, and no {PLACEHOLDER} to put them in")
    if len(set(phrasings)) != len(phrasings):
        raise ValueError(f"{path.name}: a phrasing is given twice")
    return [(f"{path.stem}[{n}]", _filled(case, phrase)) for n, phrase in enumerate(phrasings, 1)]


def cases(kind: str) -> list[tuple[str, dict]]:
    """Every case of one kind (classify, extract, repo_roles), in file order."""
    return [item for path in sorted((CASES / kind).glob("*.yml")) for item in expand(path)]


def load(path: Path) -> dict:
    """A file's first case (the only one of a file without phrasings)."""
    return expand(path)[0][1]
