"""The demo: the bundled sample world, served on a free port, crawled end to end (links followed),
classified, explained and reported."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openness.pipeline.config import CrawlConfig
from openness.pipeline.runner import CrawlResult, run_crawl
from openness.emulator import sample_world_path, serving
from openness.classification.scale.classify import ClassifyResult, classify_warehouse, explain
from openness.warehouse.query import QueryResult, run_query
from openness.outputs.report import ReportResult, write_report

HIGHLIGHTS = (
    ("Models by declared licence:",
     "SELECT coalesce(license, '(none)') AS license, count(*) AS models FROM latest_models "
     "GROUP BY ALL ORDER BY models DESC, license"),
    ("Cards that could not be read as metadata:",
     "SELECT model_id, card_status, card_error FROM latest_models WHERE card_status <> 'ok' ORDER BY model_id"),
    ("Where the models' links lead (datasets, base models, code, papers):",
     "SELECT kind, status, coalesce(reason, '') AS reason, count(DISTINCT target) AS targets, count(*) AS links "
     "FROM latest_links GROUP BY ALL ORDER BY kind, status, reason"),
    ("Code repositories and what they are for:",
     "SELECT repo, array_to_string(roles, ', ') AS roles, host_licence, array_to_string(licence_ids, ', ') AS licence "
     "FROM latest_code_repos ORDER BY repo"),
    ("How open the 12 most open models are (of 12 components; MOF class, OSAID; every model: the report, "
     "or `openness query \"SELECT * FROM latest_summaries\"`):",
     "SELECT model_id, fully_open AS open, semi_open AS semi, closed, unknown, not_applicable AS na, "
     "coalesce(mof_class, '-') AS mof, osaid FROM latest_summaries ORDER BY fully_open DESC, model_id LIMIT 12"),
    ("What could not be fetched, and why:",
     "SELECT coalesce(model_id, '-') AS model_id, coalesce(path, '') AS path, reason, status "
     "FROM fetch_failures WHERE run_id IN (?, ?) ORDER BY reason, model_id, path"),
)


# Repos a listing never shows (private, disabled, renamed, missing): asked for by id, to show
# how each is recorded.
UNLISTED = ("tinystack/tiny-gpt", "nimbus-ai/nimbus-internal", "basalt/taken-down", "basalt/never-existed")
# A quantization whose training cells come from its base model, explained cell by cell.
EXPLAINED = "kestrel-ml/aurora-7b-GGUF"


@dataclass
class DemoResult:
    endpoint: str
    warehouse: str
    crawl: CrawlResult
    by_id: CrawlResult
    classified: ClassifyResult | None = None
    report: ReportResult | None = None
    explained: dict | None = None
    highlights: list[tuple[str, QueryResult]] = field(default_factory=list)


def run_demo(warehouse: str, report_dir: str) -> DemoResult:
    with serving(sample_world_path()) as server:
        # The sample world must not be crawled with a developer's real Hub token attached.
        common = {"warehouse": warehouse, "endpoint": server.base_url, "use_token": False,
                  "rate_budget": {"api": (500, 1), "resolvers": (3000, 1)},
                  "github_api": f"{server.base_url}/api/v3", "web_base": f"{server.base_url}/web"}
        result = run_crawl(CrawlConfig(**common))
        by_id = run_crawl(CrawlConfig(model_ids=list(UNLISTED), **common))
        demo = DemoResult(server.base_url, str(Path(warehouse).resolve()), result, by_id)
    demo.classified = classify_warehouse(warehouse)
    demo.report = write_report(warehouse, report_dir)
    demo.explained = explain(warehouse, EXPLAINED)
    for title, sql in HIGHLIGHTS:
        params = [result.run_id, by_id.run_id] if "?" in sql else None
        demo.highlights.append((title, run_query(warehouse, sql, params)))
    return demo
