"""The one-shot question "how open is this model?": crawl the models and what they link to
(incrementally: rows the warehouse holds and that have not changed are reused), classify them
and their base models, and return each one's explanation."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from openness.pipeline.config import CrawlConfig
from openness.pipeline.runner import CrawlResult, run_crawl
from openness.classification.classify import NotClassified, classify_warehouse, explain


@dataclass
class AuditResult:
    crawl: CrawlResult
    explanations: list[dict] = field(default_factory=list)
    not_found: dict[str, str] = field(default_factory=dict)  # model id -> why it has no explanation


def audit(config: CrawlConfig, model_ids: list[str]) -> AuditResult:
    crawl = run_crawl(replace(config, model_ids=list(model_ids)))
    classify_warehouse(config.warehouse, list(model_ids), missing_ok=True)  # each missing one is reported below
    result = AuditResult(crawl)
    for model_id in model_ids:
        try:
            result.explanations.append(explain(config.warehouse, model_id))
        except NotClassified as exc:
            result.not_found[model_id] = str(exc)
    return result

