"""Following only what can count: a model's own links and its own papers' code are followed, and
mentions are recorded but not followed; the Hub's paper page names a paper's code; a GitHub repo
that moved (301) is followed to its new name; a card that links no code gets one guess in its
author's organisation. A small world written here, in the style of real cards."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import request_log, rows, world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.emulator.store import World
from openness.classification.scale.classify import classify_warehouse, explain

HERON_CARD = """---
license: apache-2.0
---
# Heron 7B

Heron 7B outperforms comparable open models (e.g. [Kite](https://github.com/kite-lab/kite)).
For full details of this model please read our [paper](https://arxiv.org/abs/2409.00001).
The original implementation was released in [this repository](https://github.com/old-owner/heron-code).
"""
WREN_CARD = """---
license: mit
---
# Wren 1B

A small model. Load it with transformers.
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _github(root: Path, full_name: str, readme: str, files: list[str], licence: str = "mit") -> None:
    folder = root / "github" / full_name
    _write(folder / "repo.json", json.dumps({"full_name": full_name, "license": {"key": licence, "spdx_id": licence.upper(),
                                                                                 "name": licence}}))
    _write(folder / "files" / "README.md", readme)
    _write(folder / "files" / "LICENSE", "MIT License\n\nCopyright (c) 2024\n\nPermission is hereby granted, free of "
           "charge, to any person obtaining a copy of this software and associated documentation files (the "
           '"Software"), to deal in the Software without restriction, including without limitation the rights to use, '
           "copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software.\n")
    for path in files:
        _write(folder / "files" / path, "# code\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("relevance-world")
    for model_id, card in (("heron-lab/heron-7b", HERON_CARD), ("heron-lab/wren-1b", WREN_CARD)):
        _write(root / "models" / model_id / "files" / "README.md", card)
        _write(root / "models" / model_id / "info.json", json.dumps(
            {"id": model_id, "library_name": "transformers",
             "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}]}))
    _write(root / "papers" / "2409.00001.json", json.dumps(
        {"id": "2409.00001", "title": "Heron: a small model", "githubRepo": "https://github.com/heron-lab/heron-train",
         "projectPage": "https://heron.example", "_provenance": "written for this test"}))
    _github(root, "heron-lab/heron-train", "# heron-train\n\nCode to train Heron language models from scratch.\n",
            ["train.py", "heron/model.py"])
    _github(root, "new-owner/heron-code", "# heron-code\n\nRun the released Heron weights.\n", ["run.py", "model.py"])
    _github(root, "kite-lab/kite", "# Kite\n\nA library to train language models.\n", ["train.py"])
    _github(root, "heron-lab/wren", "# Wren\n\nCode to train Wren models.\n", ["pretrain.py"])
    _write(root / "redirects.json", json.dumps({"github/old-owner/heron-code": "github/new-owner/heron-code"}))
    return root


@pytest.fixture(scope="module")
def crawled(world, tmp_path_factory):
    from openness.emulator import serving
    path = str(tmp_path_factory.mktemp("relevance") / "openness.duckdb")
    log = str(tmp_path_factory.mktemp("relevance-log") / "requests.jsonl")
    with serving(world, log_requests=log) as server:
        server.log_path = log
        result = run_crawl(CrawlConfig(warehouse=path, use_token=False, settings={"WEB_DELAY": 0.0},
                                       **world_endpoints(server)))
        requests = request_log(server)
    assert result.status == "complete"
    classify_warehouse(path)
    return path, requests


def test_a_mention_is_recorded_and_not_followed(crawled):
    path, requests = crawled
    [(status, relevance, why)] = rows(path, "SELECT status, relevance, relevance_why FROM links "
                                            "WHERE target = 'github.com/kite-lab/kite'")
    assert (status, relevance) == ("not_followed", "mention") and why.startswith("comparison")
    assert not any("kite-lab" in r["path"] for r in requests)


def test_a_moved_repository_is_followed_to_its_new_name(crawled):
    path, requests = crawled
    [(status, reason, resolved)] = rows(path, "SELECT status, reason, resolved_id FROM link_targets "
                                              "WHERE target = 'github.com/old-owner/heron-code'")
    assert (status, reason, resolved) == ("resolved", "renamed", "github.com/new-owner/heron-code")
    assert any(r["path"].startswith("/api/v3/repos/old-owner/heron-code") and r["status"] == 301 for r in requests)
    assert rows(path, "SELECT roles FROM code_repos WHERE repo = 'github.com/new-owner/heron-code'") == [(["inference"],)]


def test_the_own_papers_hub_page_names_code_that_is_followed(crawled):
    path, requests = crawled
    [(hub_page, github, project)] = rows(path, "SELECT hub_page, github_repo, project_page FROM papers")
    assert (hub_page, github, project) == ("read", "heron-lab/heron-train", "https://heron.example")
    assert any(r["path"] == "/api/papers/2409.00001" and r["bucket"] == "api" for r in requests)
    assert rows(path, "SELECT roles FROM code_repos WHERE repo = 'github.com/heron-lab/heron-train'") == [(["pretraining"],)]
    cell = explain(path, "heron-lab/heron-7b")["components"]["training.code.pretraining"]
    assert cell["label"] == "C5" and "arxiv:2409.00001" in cell["licenses"][0]["source"]


def test_a_card_without_code_gets_one_guess_in_its_organisation(crawled):
    path, requests = crawled
    [(relevance, status)] = rows(path, "SELECT relevance, status FROM links WHERE model_id = 'heron-lab/wren-1b' "
                                       "AND kind = 'code'")
    assert (relevance, status) == ("guess", "resolved")
    assert sum(1 for r in requests if r["path"] == "/api/v3/repos/heron-lab/wren") == 1
    cell = explain(path, "heron-lab/wren-1b")["components"]["training.code.pretraining"]
    assert cell["label"] == "C5" and "found by name" in cell["licenses"][0]["source"] and cell["confidence"] < 0.9


def test_heron_has_no_guess_since_it_links_code_of_its_own(crawled):
    path, _ = crawled
    assert rows(path, "SELECT count(*) FROM model_links WHERE model_id = 'heron-lab/heron-7b' AND relevance = 'guess'") == [(0,)]


def test_the_world_loads(world):
    loaded = World(world)
    assert loaded.paper("2409.00001")["githubRepo"].endswith("heron-train") and "_provenance" not in loaded.paper("2409.00001")
    assert loaded.github_moved_to("OLD-OWNER/heron-code").full_name == "new-owner/heron-code"
