"""Extractors: pure functions from a stored model record to findings with evidence."""
from __future__ import annotations

import dataclasses

from openness.extractors import code, evaluation, licenses, papers, training_data, weights
from openness.extractors.base import Document, Evidence, Finding, ModelRecord, located
from openness.extractors.budget import MAX_DOCUMENT_CHARS, MAX_SECONDS, TooComplex, time_budget

EXTRACTORS = (weights, licenses, training_data, code, evaluation, papers)


def extract_all(record: ModelRecord, max_seconds: float = MAX_SECONDS,
                max_chars: int = MAX_DOCUMENT_CHARS) -> list[Finding]:
    """Every extractor over one record. An extractor that fails on hostile input, or runs past
    its time budget, yields one 'extractor.error' finding instead of stopping the others; a
    document past the size budget is read up to it, and said to be too complex. Card data is
    untrusted input: whatever it holds, the model is stored with what could be found."""
    findings: list[Finding] = []
    record, cut = _within_size(record, max_chars)
    for path in cut:
        findings.append(_error(record, "extractors", f"too_complex: {path} is longer than {max_chars:,} "
                                                    "characters; read up to there"))
    for module in EXTRACTORS:
        try:
            with time_budget(max_seconds):
                findings.extend(module.extract(record))
        except TooComplex as exc:
            findings.append(_error(record, module.NAME, f"too_complex: {exc}"))
        except Exception as exc:  # card data is untrusted input
            findings.append(_error(record, module.NAME, f"{type(exc).__name__}: {exc}"[:500]))
    return findings


def _within_size(record: ModelRecord, max_chars: int) -> tuple[ModelRecord, list[str]]:
    """The record with each document cut at the size budget, and the paths of those cut."""
    cut = sorted(path for path, doc in record.documents.items() if doc.text is not None and len(doc.text) > max_chars)
    if not cut:
        return record, []
    documents = {path: (dataclasses.replace(doc, text=doc.text[:max_chars]) if path in cut else doc)
                 for path, doc in record.documents.items()}
    return dataclasses.replace(record, documents=documents, lineage=None, lineage_read=False), cut


def _error(record: ModelRecord, extractor: str, error: str) -> Finding:
    module = next((m for m in EXTRACTORS if m.NAME == extractor), None)
    version = module.VERSION if module else "1"
    return Finding(record.model_id, record.sha, "extractor.error", {"extractor": extractor, "error": error}, 1.0,
                   (located(record, None, None, None, extractor, extractor, version),))


__all__ = ["Document", "Evidence", "Finding", "ModelRecord", "extract_all", "EXTRACTORS"]
