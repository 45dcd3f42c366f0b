"""Weight sizes a crawl left pending (crawler/sizes.py), read on demand for the models a document
needs: a crawl of just those models by id, with every size read now, at the endpoint that crawled
each. What it reads is stored like any crawl's rows, so it is read once."""
from __future__ import annotations

from dataclasses import dataclass, field

from openness.pipeline.config import CrawlConfig
from openness.pipeline.errors import CrawlError
from openness.pipeline.runner import run_crawl
from openness.warehouse.db import connect


@dataclass
class PendingSizes:
    asked: int = 0                                            # models whose latest commit had sizes pending
    read: int = 0                                             # of them, now with none pending
    runs: list[str] = field(default_factory=list)             # the crawls that read them
    not_read: dict[str, str] = field(default_factory=dict)    # endpoint -> why its crawl could not run


def pending_by_endpoint(warehouse: str, model_ids: list[str] | None = None) -> dict[str, list[str]]:
    """The models (these, or every classified one) whose latest commit has weight sizes pending,
    by the endpoint of the crawl that stored that commit."""
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT r.endpoint, m.model_id FROM latest_models m JOIN crawl_runs r USING (run_id) "
            "WHERE coalesce(m.sizes_pending, 0) > 0 AND r.endpoint IS NOT NULL AND "
            + ("list_contains(?, m.model_id)" if model_ids else
               "m.model_id IN (SELECT model_id FROM model_summaries s WHERE s.sha = m.sha)")
            + " ORDER BY 1, 2", [list(model_ids)] if model_ids else []).fetchall()
    found: dict[str, list[str]] = {}
    for endpoint, model_id in rows:
        found.setdefault(endpoint, []).append(model_id)
    return found


def read_pending_sizes(warehouse: str, model_ids: list[str] | None = None) -> PendingSizes:
    """Read the pending weight sizes of these models (default: every classified one). An endpoint
    that cannot be crawled is reported, not raised: the documents are written with what is known."""
    result = PendingSizes()
    for endpoint, ids in pending_by_endpoint(warehouse, model_ids).items():
        result.asked += len(ids)
        config = CrawlConfig(warehouse=warehouse, endpoint=endpoint, model_ids=ids, sizes_now=True, follow_depth=0)
        try:
            result.runs.append(run_crawl(config).run_id)
        except CrawlError as exc:
            result.not_read[endpoint] = str(exc)
    still = sum(len(ids) for ids in pending_by_endpoint(warehouse, model_ids).values()) if result.asked else 0
    result.read = result.asked - still
    return result
