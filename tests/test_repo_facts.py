"""What a followed code repository's licence findings say of the models it releases: its model
licence files (at its root, or its one file deeper in a project's folder) and its README's word that
its licence covers the models."""
from __future__ import annotations

from openness.classification.taxonomy.dossier import repo_facts


def facts(*files: tuple[str, str]) -> dict:
    findings = [{"signal": "licence.identified", "value": {"path": path, "id": licence, "scope": "model"},
                 "evidence": []} for path, licence in files]
    return repo_facts({"target": "github.com/o/r", "paper": None, "status": "resolved", "reason": None, "transient": False,
                       "roles": ["inference"], "licence_ids": ["mit"], "host_licence": "MIT", "role_evidence": [],
                       "licence_findings": findings, "doc_findings": None})


def test_a_model_licence_file_at_the_root_covers_the_repos_models():
    assert facts(("MODEL_LICENSE", "opt-175b"))["model_licences"] == ["opt-175b"]


def test_the_one_model_licence_file_of_a_monorepo_covers_its_models_wherever_it_sits():
    assert facts(("projects/Kite/MODEL_LICENSE.md", "opt-175b"))["model_licences"] == ["opt-175b"]


def test_several_projects_licences_cover_no_model_in_particular():
    assert facts(("projects/Kite/MODEL_LICENSE.md", "opt-175b"),
                 ("projects/Wren/MODEL_LICENSE.md", "llama2"))["model_licences"] == []


def test_a_root_model_licence_wins_over_the_projects_ones():
    assert facts(("MODEL_LICENSE", "mit"), ("projects/Kite/MODEL_LICENSE.md", "opt-175b"))["model_licences"] == ["mit"]
