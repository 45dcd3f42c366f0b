"""The findings contract: every signal an extractor emits, and every signal a reader names, is in
the vocabulary (extractors/data/signals.yml), with its emitter, its value's shape and its readers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from casefiles import cases
from openness.extractors import Document, ModelRecord, extract_all
from openness.extractors.code_repos import RepoFiles, licence_findings
from openness.extractors.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
CASES = [case for _, case in cases("extract") + cases("classify")]
# modules that read findings by signal name
READERS = ["extractors/links.py", "crawler/linked.py", "extractors/targets.py", "classification/scale/classify.py", "classification/scale/chunk.py",
           "classification/taxonomy/dossier.py",
           "classification/taxonomy/engine.py", "classification/taxonomy/frameworks.py", "outputs/bom.py",
           "outputs/report.py", "outputs/spdx.py", "outputs/spdx3.py", "outputs/spdx_common.py",
           "classification/taxonomy/evaluate.py", "pipeline/extract.py"]
SIGNAL_LITERAL = re.compile(r"[\"']((?:weights|licence|data|code|paper|eval|extractor)\.[a-z_]+)[\"']")


def emitted():
    for case in CASES:
        docs = {p: Document(p, f"https://hub.example/{p}", t) for p, t in (case.get("documents") or {}).items()}
        record = ModelRecord(case.get("model_id", "case/x"), "abc", case.get("info") or {},
                             case.get("files") or [{"path": p} for p in docs], docs, "https://hub.example/api")
        yield from extract_all(record)
    repo = RepoFiles("github.com/o/r", "t", ["LICENSE", "README.md"],
                     {"LICENSE": Document("LICENSE", "u", "MIT License\n\nPermission is hereby granted, free of charge"),
                      "README.md": Document("README.md", "u", "The license applies to the pre-trained models as well.")})
    yield from licence_findings(repo)


def test_every_emitted_signal_is_in_the_vocabulary_with_its_emitter_and_shape():
    signals = vocabulary()
    seen = set()
    for finding in emitted():
        signal = signals.get(finding.signal)
        assert signal, f"{finding.signal} is emitted but not in signals.yml"
        extractor = finding.evidence[0].extractor if finding.evidence else None
        assert signal.extractor in (extractor, "any"), (finding.signal, extractor)
        assert signal.value_problem(finding.value) is None, signal.value_problem(finding.value)
        seen.add(finding.signal)
    # the cases exercise every signal but the error one (which they never provoke)
    assert set(signals) - seen == {"extractor.error"}


def test_every_signal_a_reader_names_is_in_the_vocabulary_with_that_reader():
    signals = vocabulary()
    named: dict[str, set[str]] = {}
    for path in READERS:
        module = path.removesuffix(".py").replace("/", ".")
        for name in SIGNAL_LITERAL.findall((ROOT / path).read_text("utf-8")):
            named.setdefault(name, set()).add(module)
    for name, modules in named.items():
        assert name in signals, f"{name} is read by {sorted(modules)} but not in signals.yml"
    for name, signal in signals.items():
        assert set(signal.read_by) == named.get(name, set()), (name, signal.read_by, named.get(name))


@pytest.mark.parametrize("value,problem", [("x", "a str where list was declared"), (["a"], None)])
def test_a_value_is_held_to_its_shape(value, problem):
    found = vocabulary()["licence.declared"].value_problem(value)
    assert (found is None) if problem is None else problem in found
    assert "not declared" in vocabulary()["code.guess"].value_problem({"repo": "r", "stars": 3})
