"""The taxonomy's rules file is validated, and families group the repos of one model family."""
from __future__ import annotations

import copy

import pytest
import yaml
from importlib import resources

from openness.classification.taxonomy.families import family_of
from openness.classification.taxonomy.rules import COMPONENT_KEYS, RulesError, parse_rules, rules


def raw() -> dict:
    return yaml.safe_load((resources.files("openness.classification.taxonomy") / "rules.yml").read_text("utf-8"))


def test_the_rules_hold_the_taxonomys_twelve_components():
    assert tuple(c.key for c in rules().components) == COMPONENT_KEYS and rules().version >= 1
    assert rules().level("code", 1) == 2 and rules().level("data", 0) == 3 and rules().level("code", 5) == 5


@pytest.mark.parametrize("mutate,message", [
    (lambda r: r["components"].pop(), "twelve keys"),
    (lambda r: r["levels"]["code"].pop(0), "every point 0-5"),
    (lambda r: r["libraries"].update({"x": "no-such-licence"}), "not in the knowledge base"),
    (lambda r: r["frameworks"]["osaid"]["code"].append("training.code.everything"), "unknown piece"),
    (lambda r: r["components"][0].update({"stage": "dreaming"}), "bad kind or stage"),
    (lambda r: r.pop("version"), "KeyError"),
])
def test_broken_rules_are_named(mutate, message):
    broken = copy.deepcopy(raw())
    mutate(broken)
    with pytest.raises(RulesError, match=message):
        parse_rules(broken)


@pytest.mark.parametrize("model_id,family", [
    ("EleutherAI/pythia-70m", "eleutherai/pythia"), ("EleutherAI/pythia-12b-deduped", "eleutherai/pythia"),
    ("EleutherAI/pythia-1.4b", "eleutherai/pythia"), ("meta-llama/Llama-2-7b-hf", "meta-llama/llama-2"),
    ("meta-llama/Llama-2-13b-chat-hf", "meta-llama/llama-2"), ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/llama-3.1"),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai/mixtral"), ("google/gemma-2-2b-it", "google/gemma-2"),
    ("Qwen/Qwen2.5-7B-Instruct-GGUF", "qwen/qwen2.5"), ("databricks/dolly-v1-6b", "databricks/dolly"),
    ("CohereLabs/c4ai-command-r7b-arabic-02-2025", "coherelabs/c4ai-command-r7b-arabic"), ("gpt2", "gpt2"),
])
def test_families(model_id, family):
    assert family_of(model_id) == family
