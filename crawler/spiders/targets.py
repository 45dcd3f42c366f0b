"""What every follower of links shares: one target's fetch in progress, the requests it sends, and
how it settles into a link_targets row (resolved, failed with a reason, or deferred)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import scrapy

from openness.crawler import hub
from openness.crawler.errors import Deferred, reason_for_exception, reason_for_status
from openness.crawler.linked import document_row, target_row
from openness.crawler.records import failure_row
from openness.warehouse.links import Target


@dataclass
class TargetFetch:
    target: Target
    pending: int = 0
    documents: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    deferred: Deferred | None = None
    outcome: dict | None = None      # a target row decided before every request settled
    data: dict = field(default_factory=dict)

    @property
    def transient_failures(self) -> bool:
        return any(f["transient"] for f in self.failures)


class Follower:
    """Base of the per-kind followers: request building with the shared errback, settling, and
    the target row. Subclasses implement start(target) and finish(fetch), which settle() calls when the
    target was read (not when an outcome was decided early, or the stored copy was current)."""
    kind = ""
    service = "hub"

    def __init__(self, spider):
        self.spider = spider

    @property
    def stats(self):
        return self.spider.crawler.stats  # set only once the crawl starts

    def prepare(self, targets: list[Target]) -> None:
        """Read what the warehouse holds of a wave's targets, once per wave."""

    def start(self, target: Target):
        raise NotImplementedError

    def finish(self, fetch: TargetFetch):
        raise NotImplementedError

    def request(self, fetch: TargetFetch, url: str, callback, path: str | None = None, **meta) -> scrapy.Request:
        fetch.pending += 1
        meta = {"target_fetch": fetch, "path": path, "service": self.service, **meta}
        if meta["service"] != "hub":
            meta["download_slot"] = meta["service"]  # its own concurrency, apart from the Hub's
        return scrapy.Request(url, callback=callback, errback=self.failed, meta=meta, dont_filter=True)

    def failed(self, failure):
        fetch: TargetFetch = failure.request.meta["target_fetch"]
        if isinstance(failure.value, Deferred):
            fetch.deferred = failure.value
        else:
            reason = reason_for_exception(failure.value)
            fetch.failures.append(failure_row(None, None, failure.request.url, failure.request.meta.get("path"), None,
                                              reason.reason, reason.transient, None,
                                              f"{type(failure.value).__name__}: {failure.value}"))
        yield from self.settle(fetch)

    def settle(self, fetch: TargetFetch):
        fetch.pending -= 1
        if fetch.pending > 0:
            return
        if fetch.deferred is not None:
            yield self.target_item(fetch, "deferred", reason="rate_limited", transient=True,
                                   message=str(fetch.deferred), retry_after=fetch.deferred.retry_at)
            yield from self._failure_items(fetch)
            return
        if fetch.outcome is None and not fetch.data and fetch.failures:  # the first request got no answer
            failure = fetch.failures[-1]
            fetch.outcome = self.target_item(fetch, "failed", reason=failure["reason"], transient=failure["transient"],
                                             message=failure["message"])
        if fetch.outcome is not None:  # settled before every request did
            yield fetch.outcome
        elif fetch.data.get("unchanged"):  # the stored copy is current: nothing more was fetched
            yield self.target_item(fetch, "resolved", reason="unchanged", resolved_id=fetch.data["resolved_id"],
                                   http_status=200)
        else:
            yield from self._finish_or_fail(fetch)
        yield from self._failure_items(fetch)

    def _finish_or_fail(self, fetch: TargetFetch):
        """finish(), or, when what was read cannot be turned into rows (a payload of odd types the
        parsing did not foresee), the target failed with the reason: never a target left unsettled."""
        try:
            items = list(self.finish(fetch))
        except Exception as exc:
            items = [self.target_item(fetch, "failed", reason="bad_payload", transient=False, http_status=200,
                                      message=f"{type(exc).__name__}: {exc}"[:1000])]
        yield from items

    def resolved_item(self, fetch: TargetFetch) -> dict:
        """The target row of a target read whole: renamed when the service answered for another id."""
        resolved = fetch.data["resolved_id"]
        return self.target_item(fetch, "resolved", reason="renamed" if resolved != fetch.target.target else None,
                                resolved_id=resolved, http_status=200, transient=fetch.transient_failures)

    def _failure_items(self, fetch: TargetFetch):
        for row in fetch.failures:
            yield {"kind": "failure", "row": row}

    def target_item(self, fetch: TargetFetch, status: str, **details) -> dict:
        self.stats.inc_value(f"openness/targets_{status}")
        return {"kind": "target", "row": target_row(fetch.target.kind, fetch.target.target, status,
                                                   fetch.target.depth, **details)}

    def fail_on_status(self, fetch: TargetFetch, response) -> dict:
        """The target row for a first request that did not answer 200."""
        headers = response_headers(response)
        reason = reason_for_status(response.status, headers)
        message = headers.get("x-error-message") or _message(response.body)
        return self.target_item(fetch, "failed", reason=reason.reason, transient=reason.transient,
                                http_status=response.status, message=message)

    def store_document(self, fetch: TargetFetch, response, path: str, ref: str, body: bytes | None = None) -> None:
        body = response.body if body is None else body
        text, encoding, truncated = hub.decode_document(body, self.spider.max_document)
        resolved = fetch.data.get("resolved_id") or fetch.target.target
        fetch.documents.append(document_row(self.kind, resolved, ref, path, response.url, body, text, encoding,
                                            truncated, hub.sha256_hex(body)))
        self.stats.inc_value("openness/linked_files_fetched")

    def record_failure(self, fetch: TargetFetch, response, path: str | None) -> None:
        headers = response_headers(response)
        reason = reason_for_status(response.status, headers)
        fetch.failures.append(failure_row(None, None, response.url, path, response.status, reason.reason,
                                          reason.transient, headers.get("x-error-code"),
                                          headers.get("x-error-message") or _message(response.body)))


def response_headers(response) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}


def json_body(response):
    """The JSON of an answer, or ValueError (an HTML page, a cut body)."""
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc}); body starts {response.body[:80]!r}") from None


def _message(body: bytes) -> str | None:
    """GitHub's {"message": ...} or the Hub's {"error": ...}, when the body is such JSON."""
    try:
        payload = json.loads(body[:20000])
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict):
        value = payload.get("message") or payload.get("error")
        return str(value)[:500] if value else None
    return None
