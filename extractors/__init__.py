"""Extractors: pure functions from a stored model record to findings with evidence."""
from __future__ import annotations

from openness.extractors import code, evaluation, licenses, papers, training_data, weights
from openness.extractors.base import Document, Evidence, Finding, ModelRecord

EXTRACTORS = (weights, licenses, training_data, code, evaluation, papers)


def extract_all(record: ModelRecord) -> list[Finding]:
    """Every extractor over one record. An extractor that fails on hostile input yields one
    'extractor.error' finding instead of stopping the others."""
    findings: list[Finding] = []
    for module in EXTRACTORS:
        try:
            findings.extend(module.extract(record))
        except Exception as exc:  # card data is untrusted input
            findings.append(Finding(record.model_id, record.sha, "extractor.error",
                                    {"extractor": module.NAME, "error": f"{type(exc).__name__}: {exc}"[:500]}, 1.0,
                                    (Evidence(record.info_url, None, None, None, module.NAME, module.NAME,
                                              module.VERSION),)))
    return findings


__all__ = ["Document", "Evidence", "Finding", "ModelRecord", "extract_all", "EXTRACTORS"]
