"""The licence knowledge base: every file valid, every Hub id present, the paper's calibration kept."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.extractors.base import first_mentions
from openness.extractors.knowledge import corpora, evaluations, leading_literal
from openness.extractors.knowledge import CRITERIA, KnowledgeError, knowledge, licences_dir, load_licences, lookup

# The licence identifiers the Hub accepts (hub-docs repositories-licenses.md, region "licenses").
HUB_IDS = """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0
cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0
cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl
lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openmdw-1.0
openmdw-1.1 openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license
fair-noncommercial-research-license llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 grok2-community gemma unknown
other""".split()

# The `license: other` licences an audit meets most (the list).
COMMON_OTHER = ["qwen", "deepseek", "tii-falcon-llm", "dbrx", "nvidia-open-model-license", "mistral-research",
                "ai2-impact-lr", "stabilityai-community", "flux-1-dev-non-commercial-license", "opt-175b",
                "microsoft-research-license"]


def test_every_hub_identifier_has_a_file():
    assert len(HUB_IDS) == 83
    by_hub_id = {l.hub_id: l for l in knowledge().values() if l.hub_id}
    assert sorted(set(HUB_IDS) - set(by_hub_id)) == []
    assert sorted(set(by_hub_id) - set(HUB_IDS)) == []


def test_common_other_licences_are_known():
    for licence_id in COMMON_OTHER:
        assert knowledge()[licence_id].hub_id is None


@pytest.mark.parametrize("licence_id,points", [
    ("apache-2.0", 5), ("mit", 5), ("bsd-3-clause", 5), ("cc-by-sa-4.0", 5),  # the paper's calibration points
    ("bigscience-bloom-rail-1.0", 4), ("cohere-c4ai-cc-by-nc-4.0", 4), ("odc-by", 4),
    ("llama2", 3), ("llama3", 3), ("dbrx", 3),
    ("gpl-3.0", 4), ("cc-by-nc-4.0", 4), ("cc-by-nc-sa-4.0", 3), ("cc-by-nd-4.0", 2), ("cc-by-nc-nd-4.0", 1),
    ("unknown", 0), ("other", 0),
])
def test_calibration(licence_id, points):
    assert knowledge()[licence_id].points == points


def test_every_answer_has_a_justification_that_names_its_licence_terms():
    for licence in knowledge().values():
        for criterion in CRITERIA:
            why = licence.rubric[criterion].why
            assert len(why) >= 20 and why.endswith("."), (licence.id, criterion)


def test_spdx_ids_and_ai_licences():
    k = knowledge()
    assert k["apache-2.0"].spdx_id == "Apache-2.0" and k["odc-by"].spdx_id == "ODC-By-1.0"
    ai = [l for l in k.values() if l.kind == "model" and not l.spdx_id.startswith("OpenMDW")]
    assert ai and all(l.spdx_id.startswith("LicenseRef-") for l in ai)  # no AI licence has an SPDX id
    assert all(l.family for l in (k["bsd"], k["cc"], k["gpl"], k["lgpl"], k["gfdl"], k["openrail"]))


def test_lookup_by_alias_ignores_case_and_spacing():
    assert lookup("Apache 2.0").id == "apache-2.0"
    assert lookup("TONGYI_QIANWEN").id == "qwen"
    assert lookup("llama3.1").id == "llama3.1"
    assert lookup("no-such-licence") is None


@pytest.mark.parametrize("mutation,message", [
    (lambda t: t.replace("id: mit", "id: mitx"), "differs from the file name"),
    (lambda t: t.replace("spdx_id: MIT", "spdx_id: 'MIT License!'"), "neither an SPDX id"),
    (lambda t: t.replace("    allowed: true\n", "    allowed: yes please\n", 1), "must be true or false"),
    (lambda t: t.replace("  research:", "  reading:"), "rubric must answer exactly"),
    (lambda t: t.replace("kind: code", "kind: vibes"), "kind must be one of"),
    (lambda t: t + "\n: [", "not YAML"),
    (lambda t: t.replace("osi_approved: true", "osi_approved: maybe"), "osi_approved must be true, false or null"),
    (lambda t: t.replace("fsf_libre: true\n", ""), "missing fsf_libre"),
    (lambda t: t.replace('facts_source: "SPDX', 'facts_source: " "\nx: "SPDX'), "facts_source must say where"),
])
def test_broken_knowledge_files_are_named(tmp_path, mutation, message):
    shutil.copy(licences_dir() / "apache-2.0.yml", tmp_path)
    text = (licences_dir() / "mit.yml").read_text()
    (tmp_path / "mit.yml").write_text(mutation(text))
    with pytest.raises(KnowledgeError, match=message):
        load_licences(tmp_path)


def test_an_alias_may_name_one_licence_only(tmp_path):
    shutil.copy(licences_dir() / "mit.yml", tmp_path)
    text = (licences_dir() / "apache-2.0.yml").read_text().replace("- apache2", "- expat")
    (tmp_path / "apache-2.0.yml").write_text(text)
    with pytest.raises(KnowledgeError, match="also names"):
        load_licences(tmp_path)


def test_licenses_command_lists_the_knowledge_base():
    runner = CliRunner()
    rows = json.loads(runner.invoke(cli, ["licenses", "--json"]).output)
    assert {r["id"] for r in rows} >= set(HUB_IDS)
    llama = next(r for r in rows if r["id"] == "llama2")
    assert [llama[c] for c in CRITERIA] == [True, False, True, True, False] and llama["points"] == 3
    assert set(llama) >= {"id", "name", "spdx_id", *CRITERIA, "points", "justification"}
    assert "700 million" in llama["justification"]["commercial"]
    table = runner.invoke(cli, ["licenses"]).output
    assert "apache-2.0" in table and f"({len(rows)} rows)" in table


@pytest.mark.parametrize("pattern, anchor", [
    ("the pile", "the pile"), ("fineweb(?!-edu)", "fineweb"), ("common ?crawl", "common"),
    ("humaneval\\+?", "humaneval"), ("dolly[- ]15k", "dolly"), ("c4", None), ("\\bshp\\b", None),
    ("alpaca|dolly", None), ("t[uü]lu sft", None),
])
def test_the_text_every_match_must_contain(pattern, anchor):
    assert leading_literal(pattern) == anchor


def test_anchors_never_hide_a_mention(sample_world):
    """Over every card the tests hold, and each name written in a card of its own in upper, lower
    and title case, the anchored search finds exactly what the plain search finds."""
    cards = [p.read_text("utf-8", "replace") for p in sample_world.glob("models/*/*/files/README.md")]
    cards += [p.read_text("utf-8", "replace") for p in (Path(__file__).parent / "cases").rglob("*.yml")]
    items = corpora() + evaluations()
    for item in items:
        for literal in item.anchors or ():
            cards += [f"trained on {literal}.", f"Trained on {literal.upper()}.", f"Trained on {literal.title()} data"]
    assert sum(1 for item in items if item.anchors) >= 40
    plain = [replace(item, anchors=None) for item in items]
    for card in cards:
        lines = card.splitlines()
        assert first_mentions(lines, items) == [(n, items[plain.index(p)], start, end)
                                                for n, p, start, end in first_mentions(lines, plain)]


@pytest.mark.parametrize("name,body,message", [
    ("lineage.yml", "- relation: cousin\n  patterns: ['of']\n", "relation must be one of"),
    ("lineage.yml", "- relation: finetune\n  patterns: ['(']\n", "bad entry"),
    ("corpus_words.yml", "elsewhere: [unlike]\n", "missing or malformed"),
    ("model_licence_words.yml", "covers_models: ['(']\nreleases_models: [a]\nmodels_own_terms: [b]\n", "malformed"),
])
def test_the_sentence_knowledge_files_are_validated(tmp_path, monkeypatch, name, body, message):
    """The words of lineage, corpus mentions and model licences are data: a broken file is one clear error."""
    from openness.extractors import knowledge as module
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / name).write_text(body, "utf-8")
    monkeypatch.setattr(module.resources, "files", lambda package: tmp_path)
    loaders = (module.lineage_phrases, module.corpus_words, module.model_licence_words)
    for loader in loaders:
        loader.cache_clear()
    try:
        loader = {"lineage.yml": module.lineage_phrases, "corpus_words.yml": module.corpus_words,
                  "model_licence_words.yml": module.model_licence_words}[name]
        with pytest.raises(KnowledgeError, match=message):
            loader()
    finally:
        for loader in loaders:
            loader.cache_clear()


@pytest.mark.parametrize("licence_id, osi, fsf", [
    ("apache-2.0", True, True), ("mit", True, True), ("gpl-3.0", True, True),
    ("cc-by-4.0", False, True), ("cc-by-nc-4.0", False, False),
    ("llama3", False, None), ("gemma", False, None),  # model licences: not OSI-approved, no FSF position
    ("cc-by", None, None), ("other", None, None),     # a family, an unnamed licence: no fact
])
def test_outside_facts_and_where_they_come_from(licence_id, osi, fsf):
    licence = knowledge()[licence_id]
    assert (licence.osi_approved, licence.fsf_libre) == (osi, fsf)
    assert licence.facts_source and ("SPDX License List" in licence.facts_source or "none" in licence.facts_source)


def test_every_licence_states_its_outside_facts():
    for licence in knowledge().values():
        assert licence.osi_approved in (True, False, None) and licence.fsf_libre in (True, False, None)
        assert licence.facts_source.strip(), licence.id
        if licence.osi_approved:  # an approved licence has an SPDX id, as the list marks it
            assert not licence.spdx_id.startswith("LicenseRef-"), licence.id
