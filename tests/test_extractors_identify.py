"""Licence text identification on a labelled set: the real-sample licence files and variants of
them (other copyright lines, rewrapped, Markdown, truncated). A wrong id is worse than 'unknown'."""
from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.extractors.identify import Identifier, normalise

LABELS = {"EleutherAI/lm-evaluation-harness": "mit", "Stability-AI/StableLM": "apache-2.0",
          "allenai/OLMo": "apache-2.0", "databricks/dbrx": "dbrx", "meta-llama/llama": "llama2",
          "meta-llama/llama3": "llama3", "mistralai/mistral-inference": "apache-2.0",
          "openlm-research/open_llama": "apache-2.0"}


@pytest.fixture(scope="module")
def originals(real_sample):
    texts = {}
    for repo, label in LABELS.items():
        folder = real_sample / "github" / repo / "files"
        path = next(p for p in folder.iterdir() if p.name.startswith("LICENSE"))
        texts[repo] = (path.read_text("utf-8"), label)
    return texts


def variants(text: str) -> dict[str, str]:
    lines = text.splitlines()
    recopied = [("Copyright (c) 2031 Somebody Else" if "copyright (c)" in l.lower() else l) for l in lines]
    return {
        "original": text,
        "other copyright line": "\n".join(recopied),
        "rewrapped": "\n".join(textwrap.wrap(" ".join(text.split()), 60)),
        "markdown": "# " + lines[0].strip() + "\n\n" + "\n".join(f"**{l}**" if l.isupper() else l for l in lines[1:]),
        "crlf": text.replace("\n", "\r\n"),
        "truncated to 60%": text[: int(len(text) * 0.6)],
    }


def test_labelled_set_accuracy_and_no_wrong_ids(originals):
    identifier = Identifier()
    total = correct = 0
    wrong = []
    for repo, (text, label) in originals.items():
        for name, variant in variants(text).items():
            found = identifier.identify(variant).licence_id
            total += 1
            correct += found == label
            if found not in (label, None):
                wrong.append((repo, name, found))
    assert wrong == []
    assert total == 48 and correct / total >= 0.95, f"{correct}/{total}"


@pytest.mark.parametrize("text", [
    "",
    "# My model\n\nThis model is released under the Apache License 2.0. See LICENSE.\n",
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT (summary placeholder; see the base model for the full text)\n",
    "Permission is hereby granted to whoever reads this, to do whatever.\n",
    "\x00\x01 binary-ish noise \x02",
])
def test_non_licences_and_fragments_are_unknown(text):
    assert Identifier().identify(text).licence_id is None


def test_identical_texts_are_identified_once(originals):
    identifier = Identifier()
    text = originals["allenai/OLMo"][0]
    for copy in (text, text + "\n", "  " + text):  # same normalised text
        assert identifier.identify(copy).licence_id == "apache-2.0"
    # the byte-identical copy hits the raw-text cache; the others meet under the normalised key
    assert identifier.hits == 2 and len({v for v in identifier.cache.values()}) == 1


def test_normalise():
    assert normalise("  “Quoted” —\n\n**Bold**  # Title ") == '"quoted" - bold title'


def test_identify_command(real_sample, tmp_path):
    path = real_sample / "github" / "meta-llama" / "llama" / "files" / "LICENSE"
    unknown = tmp_path / "LICENSE"
    unknown.write_text("You may do nothing with this.\n")
    result = CliRunner().invoke(cli, ["licenses", "identify", str(path), str(unknown)])
    assert result.exit_code == 0
    assert "llama2  LicenseRef-scancode-llama-2-license-2023  score 1.00  by fingerprint" in result.output
    assert f"{unknown}: unknown" in result.output
    data = json.loads(CliRunner().invoke(cli, ["licenses", "identify", "--json", str(path)]).output)
    assert data[0]["licence"] == "llama2" and data[0]["matches"][0]["method"] == "fingerprint"
