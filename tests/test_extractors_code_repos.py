"""Data-driven cases for the roles of a code repository (tests/cases/repo_roles/*.yml): a tree's
paths and a few texts in, roles and their evidence out; and the real sample's repos."""
from __future__ import annotations

import json

import pytest

from casefiles import cases
from openness.extractors.base import Document
from openness.extractors.code_repos import RepoFiles, identified_licences, licence_findings, roles
from openness.extractors.knowledge import KnowledgeError, repo_roles

CASES = cases("repo_roles")


def files_of(case: dict) -> RepoFiles:
    docs = {p: Document(p, f"https://api.example/contents/{p}", text) for p, text in case["documents"].items()}
    return RepoFiles("github.com/case/repo", "tree", case["paths"], docs)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_case(case):
    found, evidence = roles(files_of(case))
    assert found == case["roles"]
    rows = [vars(e) for e in evidence]
    for expected in case.get("evidence", []):
        assert any(all(row[k] == v for k, v in expected.items()) for row in rows), (expected, rows)
    for row in rows:  # every piece of evidence is a path of the tree or a verbatim line of a text
        if row["source"] in ("path", "config", "fallback"):
            assert row["path"] in case["paths"] and row["snippet"] == row["path"]
        else:
            assert case["documents"][row["path"]].splitlines()[row["line_start"] - 1].strip() == row["snippet"]


def test_there_are_cases():
    assert len(CASES) >= 8


EXPECTED = {  # what a careful reader of each real repository would say
    "EleutherAI/lm-evaluation-harness": ["evaluation"],
    "allenai/OLMo": ["evaluation", "pretraining", "inference"],
    "meta-llama/llama": ["inference"],
    "meta-llama/llama3": ["inference"],
    "mistralai/mistral-inference": ["inference"],
    "databricks/dbrx": ["inference"],
    "Stability-AI/StableLM": ["evaluation", "pretraining", "inference"],
}
NOT_EXPECTED = {  # and what it would not: a release page is no code; a "Finetune" section that sends the
    # reader to another repository is not this repo's fine-tuning code
    "openlm-research/open_llama": ["evaluation", "inference", "pretraining"],
    "databricks/dbrx": ["finetuning", "pretraining"],
    "meta-llama/llama": ["pretraining", "finetuning", "evaluation"],
}


@pytest.mark.parametrize("name", sorted(set(EXPECTED) | set(NOT_EXPECTED)))
def test_real_sample_repositories(real_sample, name):
    folder = real_sample / "github" / name
    tree = json.loads((folder / "tree.json").read_text("utf-8"))["tree"]
    docs = {p.name: Document(p.name, None, p.read_text("utf-8", errors="replace")) for p in (folder / "files").iterdir()}
    files = RepoFiles(f"github.com/{name}".lower(), "t", [e["path"] for e in tree if e["type"] == "blob"], docs)
    found, _ = roles(files)
    for role in EXPECTED.get(name, []):
        assert role in found, (name, found)
    for role in NOT_EXPECTED.get(name, []):
        assert role not in found, (name, found)
    assert not {"pretraining", "alignment"} & set(found) - set(EXPECTED.get(name, [])), (name, found)
    assert identified_licences(licence_findings(files)), name


def test_repo_roles_knowledge_is_validated(tmp_path, monkeypatch):
    assert [r.role for r in repo_roles()] == ["safety_evaluation", "evaluation", "alignment", "finetuning",
                                              "pretraining", "inference"]
    from openness.extractors import knowledge
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "repo_roles.yml").write_text("- role: x\n  unless: [nope]\n", "utf-8")
    monkeypatch.setattr(knowledge.resources, "files", lambda package: tmp_path)
    knowledge.repo_roles.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match="unless names unknown roles"):
            knowledge.repo_roles()
    finally:
        knowledge.repo_roles.cache_clear()


def covers(readme: str) -> bool:
    files = RepoFiles("github.com/case/repo", "t", ["README.md", "LICENSE", "train.py"],
                      {"README.md": Document("README.md", "u", f"# Kite\n\n{readme}\n"),
                       "LICENSE": Document("LICENSE", "u", "MIT License\n\nPermission is hereby granted, free of charge")})
    return any(f.signal == "licence.covers_models" for f in licence_findings(files))


@pytest.mark.parametrize("readme", [
    "The license applies to the pre-trained models as well.",
    "Code and model weights are released under the MIT license.",
    "The released checkpoints are also covered by this license.",
    "Both the code and the checkpoints are licensed under the MIT License.",
    "This repository, including the trained model weights, is MIT licensed.",
    "Our models and code are released under the MIT license.",
    "The MIT license in this repository also applies to the model weights.",
    # a repo in which its developers release the models, with no other terms for them
    "I occasionally train and publicly release large neural language models on programs.",
    "We release the pre-trained checkpoints of all three sizes below.",
    "This repository releases the trained model weights and the code to run them.",
    "Here we publicly release our trained code models and describe how to use them.",
    "We are releasing the weights of our 1B and 3B models.",
    "Pretrained models are released under the same license as the code.",
])
def test_a_readme_saying_its_licence_covers_the_models(readme):
    assert covers(readme)


@pytest.mark.parametrize("readme", [
    "The code is released under the MIT license; the weights are under a separate research licence.",
    "The model weights are available under a different license; see MODEL_LICENSE.",
    "This code is MIT licensed.",
    "Model weights are not covered by this license.",
    "This license does not apply to the model weights.",
    "We release the pre-trained checkpoints below. The checkpoints are licensed under CC-BY-NC-4.0.",
    "We release our code; the models are available on request.",
    "Code to fine-tune publicly released models.",
    "We release the model under a non-commercial licence.",
])
def test_a_readme_that_gives_the_models_another_licence_or_none(readme):
    assert not covers(readme)
