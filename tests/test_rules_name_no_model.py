"""The rules, the link and role heuristics and their knowledge name no model: no level is reached by
recognising a model, an organisation's release or a family of the gold sets. Knowledge may name
what it is about (a licence, a corpus, a library), never which model gets which level."""
from __future__ import annotations

import csv
import re

import pytest

from conftest import REPO

GOLD_DIR = REPO.parent / "shared" / "gold"
# Where classification decides: the taxonomy's rules and engine, the extractors and their knowledge.
RULE_FILES = sorted([*REPO.glob("extractors/*.py"), *REPO.glob("extractors/data/**/*.yml"),
                     *REPO.glob("classification/**/*.py"), *REPO.glob("classification/**/*.yml")])


def gold_model_ids() -> set[str]:
    if not GOLD_DIR.is_dir():
        pytest.skip("no gold sets beside the project")
    ids = set()
    for path in GOLD_DIR.glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            ids |= {row["model_id"] for row in csv.DictReader(handle) if row.get("model_id")}
    return ids


def test_there_is_something_to_check():
    assert len(RULE_FILES) > 30 and gold_model_ids()


@pytest.mark.parametrize("path", RULE_FILES, ids=[str(p.relative_to(REPO)) for p in RULE_FILES])
def test_no_gold_model_is_named(path):
    text = path.read_text("utf-8").lower() if path.is_file() else ""
    for model_id in gold_model_ids():
        name = model_id.split("/", 1)[1]
        assert model_id.lower() not in text, f"{path} names {model_id}"
        if len(name) >= 6:  # a model's own name, not a word it shares with others
            assert not re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", text), f"{path} names {name}"
