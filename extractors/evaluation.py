"""Evaluation: model-index results and their datasets, evaluation harnesses and benchmarks named in
the card, and safety evaluation or red-teaming statements; results of a public leaderboard appended
to the card kept apart from the developers' own."""
from __future__ import annotations

import re

from openness.extractors.base import Finding, Located, ModelRecord, first_mentions, heading_above, headings
from openness.extractors.knowledge import evaluations
from openness.extractors.sentences import negated

NAME, VERSION = "evaluation", "3"


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    findings: list[Finding] = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    results = model_index_results(record.card_data.get("model-index"))
    if results:
        add("eval.model_index", results, 1.0, [at.card_key("model-index")])
    readme = record.readme()
    lines = readme.text.splitlines() if readme and readme.text else []
    sections = headings(lines)
    for number, item, start, end in first_mentions(lines, evaluations()):
        if negated(lines[number - 1], start, end):
            continue  # "we did not use lm-evaluation-harness": named, not used
        if _LEADERBOARD.search(heading_above(sections, number)):
            # a public leaderboard's table appended to the card: its results, not the developers' evaluation
            add("eval.leaderboard", {"id": item.id, "kind": item.kind}, 0.8, [at.lines("README.md", number, number)])
            continue
        signal = {"harness": "eval.harness", "general": "eval.benchmark", "safety": "eval.safety"}[item.kind]
        add(signal, {"id": item.id, "kind": item.kind}, 0.8, [at.lines("README.md", number, number)])
    return findings


_LEADERBOARD = re.compile(r"\bleaderboards?\b", re.IGNORECASE)


def benchmark_of(dataset: str | None):
    """The known benchmark a model-index dataset is (its Hub id or name: cais/mmlu, openai_humaneval),
    or None."""
    if not dataset:
        return None
    texts = (str(dataset), re.sub(r"[/_]", " ", str(dataset)))
    return next((item for item in evaluations() if item.kind != "harness" and any(item.pattern.search(t) for t in texts)),
                None)


def _from_leaderboard(result: dict) -> bool:
    """The result's source is a public leaderboard (the Hub appends such results to cards)."""
    source = result.get("source") if isinstance(result.get("source"), dict) else {}
    return bool(_LEADERBOARD.search(f"{source.get('name') or ''} {source.get('url') or ''}"))


def model_index_results(model_index) -> list[dict]:
    """Flattened model-index: one entry per (task, dataset, metric); malformed parts are skipped."""
    out = []
    for model in model_index if isinstance(model_index, list) else []:
        for result in model.get("results") or [] if isinstance(model, dict) else []:
            if not isinstance(result, dict):
                continue
            task = result.get("task") if isinstance(result.get("task"), dict) else {}
            dataset = result.get("dataset") if isinstance(result.get("dataset"), dict) else {}
            for metric in result.get("metrics") or []:
                if isinstance(metric, dict):
                    out.append({"task": task.get("type"), "dataset": dataset.get("type") or dataset.get("name"),
                                "metric": metric.get("type") or metric.get("name"), "value": metric.get("value"),
                                "leaderboard": _from_leaderboard(result)})
    return out
