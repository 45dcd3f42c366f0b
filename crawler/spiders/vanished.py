"""Noticing models that left the listing. Once a whole listing of a selection is stored, each model
the previous crawl of the same selection listed and this one did not is asked for by id (one api
request each; a few a night even at Hub scale), and gets a `vanished_models` row saying what became
of it: gone, renamed, private, disabled, unlisted, or unknown when no answer came."""
from __future__ import annotations

import json

import scrapy

from openness.crawler import hub
from openness.crawler.errors import reason_for_exception, reason_for_status
from openness.crawler.records import utcnow
from openness.crawler.spiders.targets import response_headers
from openness.warehouse.runs import vanished_candidates

# reason_for_status's names -> outcomes; a transient failure is 'unknown' and asked again next crawl
_OUTCOME_OF_REASON = {"not_found": "gone", "disabled": "disabled"}


def outcome_of(requested: str, status: int, payload, reason: str | None, transient: bool) -> tuple[str, str | None]:
    """(outcome, now_id) of the info request for a model that left the listing."""
    if status == 200 and isinstance(payload, dict) and isinstance(payload.get("id"), str):
        if payload["id"] != requested:
            return "renamed", payload["id"]
        if payload.get("private"):
            return "private", None
        if payload.get("disabled"):
            return "disabled", None
        return "unlisted", None
    if transient or reason is None:
        return "unknown", None
    return _OUTCOME_OF_REASON.get(reason, "unknown"), None


class VanishedCheck:
    def __init__(self, spider):
        self.spider = spider
        self.done = False

    def due(self) -> bool:
        """Once per crawl, after a whole listing: a limited, by-id or failed listing says nothing
        about the models it did not show, nor does one with an entry that names no model."""
        selection = self.spider.selection
        stats = self.spider.crawler.stats
        listing_failed = (stats.get_value("openness/listing_failures", 0)
                          or stats.get_value("openness/listing_entries_unreadable", 0))
        return (not self.done and not selection.get("model_ids") and selection.get("limit") is None
                and not selection.get("follow_only") and not listing_failed)

    def requests(self) -> list[scrapy.Request]:
        self.done = True
        spider = self.spider
        candidates = vanished_candidates(spider.warehouse, spider.run_id, spider.selection)
        spider.crawler.stats.inc_value("openness/models_vanished", len(candidates))
        return [scrapy.Request(hub.model_info_url(spider.endpoint, model_id), callback=self.parse,
                               errback=self.failed, dont_filter=True,
                               meta={"vanished": (model_id, last_run, last_sha)})
                for model_id, last_run, last_sha in candidates]

    def parse(self, response):
        model_id = response.meta["vanished"][0]
        payload, reason, transient, message = None, None, False, None
        if response.status == 200:
            try:
                payload = json.loads(response.body)
            except (ValueError, UnicodeDecodeError) as exc:
                transient, message = True, f"not JSON: {exc}"
        else:
            headers = response_headers(response)
            failure = reason_for_status(response.status, headers)
            reason, transient, message = failure.reason, failure.transient, headers.get("x-error-message")
        outcome, now_id = outcome_of(model_id, response.status, payload, reason, transient)
        yield self._item(response.meta["vanished"], outcome, now_id, response.status, message)

    def failed(self, failure):
        reason = reason_for_exception(failure.value)
        yield self._item(failure.request.meta["vanished"], "unknown", None, None,
                         f"{reason.reason}: {type(failure.value).__name__}: {failure.value}"[:1000])

    def _item(self, vanished, outcome, now_id, status, message) -> dict:
        model_id, last_run, last_sha = vanished
        self.spider.crawler.stats.inc_value(f"openness/vanished_{outcome}")
        return {"kind": "vanished", "row": {"model_id": model_id, "last_seen_run": last_run, "last_sha": last_sha,
                                            "outcome": outcome, "now_id": now_id, "http_status": status,
                                            "message": message, "observed_at": utcnow()}}
