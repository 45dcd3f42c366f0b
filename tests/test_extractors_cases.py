"""Data-driven extractor cases: tests/cases/extract/*.yml hold a card and files in, findings expected out.

A case's `expect` entries name a signal and either its exact `value` or a `subset` of it (dict keys,
or list items matched in order by their keys), and optionally where the first evidence points
(`path`, `line`, verbatim `snippet`); a signal found several times meets an entry when any of its
findings does. `absent` lists signals that must not appear."""
from __future__ import annotations


import pytest

from casefiles import cases
from openness.extractors import Document, ModelRecord, extract_all
from openness.extractors.base import SNIPPET_MAX

CASES = cases("extract")
IDS = [name for name, _ in CASES]


def load(case: dict) -> tuple[dict, ModelRecord]:
    docs = {p: Document(p, f"https://hub.example/{case['model_id']}/resolve/abc/{p}", text)
            for p, text in case["documents"].items()}
    record = ModelRecord(case["model_id"], "abc", case["info"], case["files"], docs,
                         f"https://hub.example/api/models/{case['model_id']}")
    return case, record


def contains(actual, subset) -> bool:
    if isinstance(subset, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in subset.items())
    if isinstance(subset, list):
        return isinstance(actual, list) and len(actual) == len(subset) and all(map(contains, actual, subset))
    return actual == subset


def matches(finding, expected: dict) -> bool:
    """A finding meets an expectation: its value (whole or a subset) and where its first evidence points."""
    if "value" in expected and finding.value != expected["value"]:
        return False
    if "subset" in expected and not contains(finding.value, expected["subset"]):
        return False
    evidence = finding.evidence[0]
    return all(getattr(evidence, attribute) == expected[key]
               for key, attribute in (("path", "path"), ("line", "line_start"), ("snippet", "snippet")) if key in expected)


def test_there_are_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=IDS)
def test_case(case):
    case, record = load(case)
    findings = extract_all(record)
    by_signal = {}
    for finding in findings:
        by_signal.setdefault(finding.signal, []).append(finding)
    for expected in case["expect"]:
        found = by_signal.get(expected["signal"])
        assert found, f"{expected['signal']} missing; found {sorted(by_signal)}"
        assert any(matches(finding, expected) for finding in found), [f.value for f in found]
    for signal in case["absent"]:
        assert signal not in by_signal, by_signal[signal][0].value


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=IDS)
def test_every_snippet_is_verbatim_at_its_path_and_lines(case):
    case, record = load(case)
    for finding in extract_all(record):
        assert 0 < finding.confidence <= 1
        for evidence in finding.evidence:
            if evidence.line_start is None:
                continue
            lines = case["documents"][evidence.path].splitlines()
            shown = "\n".join(lines[evidence.line_start - 1:evidence.line_end])
            assert len(evidence.snippet) <= SNIPPET_MAX
            if evidence.column is None:
                assert evidence.snippet == shown
            else:  # cut from longer lines: verbatim from its line and column on
                assert shown[evidence.column - 1:].startswith(evidence.snippet)
            assert evidence.snippet.strip()
