"""The limits on a card's YAML: what expands past them is refused before anything walks it, and
ordinary cards, aliases and all, are let through."""
from __future__ import annotations

import time

import pytest

from openness.extractors.card_yaml import MAX_EXPANDED_CHARS, MAX_EXPANDED_NODES, yaml_problem

from hostile_world import scalar_bomb, yaml_bomb


def nested_string_bomb() -> str:
    # a string repeated in a list, the list repeated in a map: 50 KB x 50 x 50 = 125 MB
    return (f"a: &a \"{'y' * 50_000}\"\nb: &b [" + ", ".join(["*a"] * 50) + "]\n"
            "c: {" + ", ".join(f"k{i}: *b" for i in range(50)) + "}\n")


def mapping_key_bomb() -> str:
    # the long string used as values of many keys, not in a list
    return f"base: &base \"{'z' * 100_000}\"\n" + "".join(f"copy{i}: *base\n" for i in range(40))


@pytest.mark.parametrize("text, limit", [
    (yaml_bomb(), f"{MAX_EXPANDED_NODES:,} nodes"),
    (scalar_bomb(), f"{MAX_EXPANDED_CHARS:,} characters"),
    (nested_string_bomb(), f"{MAX_EXPANDED_CHARS:,} characters"),
    (mapping_key_bomb(), f"{MAX_EXPANDED_CHARS:,} characters"),
    ("self: &s [*s]\n", f"{MAX_EXPANDED_NODES:,} nodes"),
])
def test_a_value_that_expands_past_a_limit_is_refused_quickly(text, limit):
    started = time.monotonic()
    problem = yaml_problem(text)
    assert problem is not None and problem.endswith(limit)
    assert time.monotonic() - started < 5  # counted, never expanded


@pytest.mark.parametrize("text", [
    # a card's usual shape, with an anchor reused a few times (as model-index blocks do)
    "license: mit\nmetrics: &m [accuracy, f1]\nmodel-index:\n- results:\n  - metrics: *m\n  - metrics: *m\n",
    # a long description used twice stays far under the limit
    f"summary: &d \"{'w' * 200_000}\"\ndescription: *d\nlicense: apache-2.0\n",
    # many small repeats of a short value
    "tags: &t [nlp]\n" + "".join(f"s{i}: *t\n" for i in range(5_000)),
    # no aliases at all, near the front matter limit
    "notes: \"" + "v" * 900_000 + "\"\n",
])
def test_cards_within_the_limits_are_let_through(text):
    assert yaml_problem(text) is None
