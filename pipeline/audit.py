"""The one-shot question "how open is this model?": crawl the models and what they link to
(incrementally: rows the warehouse holds and that have not changed are reused), classify them
and their base models, and return each one's explanation."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from openness.crawler.records import renamed_to
from openness.pipeline.config import CrawlConfig
from openness.pipeline.runner import CrawlResult, run_crawl
from openness.classification.scale.classify import NotClassified, classify_warehouse, explain
from openness.warehouse.db import connect


@dataclass
class AuditResult:
    crawl: CrawlResult
    explanations: list[dict] = field(default_factory=list)
    not_found: dict[str, str] = field(default_factory=dict)  # model id -> why it has no explanation
    renamed: dict[str, str] = field(default_factory=dict)    # model id asked for -> the id it has now


def audit(config: CrawlConfig, model_ids: list[str]) -> AuditResult:
    # a few models: their weight sizes are read now, whatever a crawl of many would leave for later
    crawl = run_crawl(replace(config, model_ids=list(model_ids), sizes_now=True))
    result = AuditResult(crawl)
    failures = _failures(config.warehouse, crawl.run_id, model_ids)
    for model_id, (reason, message) in failures.items():
        if reason == "renamed" and (now := renamed_to(message)):
            result.renamed[model_id] = now  # stored under its new id: explained as that
    answered = [result.renamed.get(m, m) for m in model_ids]
    classify_warehouse(config.warehouse, answered, missing_ok=True)  # each missing one is reported below
    for model_id, now in zip(model_ids, answered):
        try:
            result.explanations.append(explain(config.warehouse, now))
        except NotClassified as exc:
            reason, message = failures.get(model_id, (None, None))
            result.not_found[model_id] = (f"could not be read from {config.endpoint}: {reason}"
                                          + (f" ({message})" if message else "") if reason else str(exc))
    return result


def _failures(warehouse: str, run_id: str, model_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Why this crawl could not read each model asked for (its repo, not one of its files)."""
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("SELECT model_id, reason, message FROM fetch_failures WHERE run_id = ? AND path IS NULL "
                           "AND list_contains(?, model_id) ORDER BY failed_at", [run_id, list(model_ids)]).fetchall()
    return {model_id: (reason, message) for model_id, reason, message in rows}
