"""The one place that names why a fetch failed, and the harvest's deferral of a rate-limited request."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scrapy.exceptions import IgnoreRequest

from openness.errors import OpennessError


@dataclass(frozen=True)
class FailureReason:
    reason: str
    transient: bool  # worth fetching again in a later crawl


def reason_for_status(status: int, headers: dict[str, str]) -> FailureReason:
    """Name a non-200 answer by the Hub's X-Error-Code first, as huggingface_hub does."""
    code = headers.get("x-error-code") or ""
    message = headers.get("x-error-message") or ""
    if code == "GatedRepo":
        return FailureReason("gated", False)
    if code == "RepoNotFound":
        return FailureReason("not_found", False)
    if code == "RevisionNotFound":
        return FailureReason("revision_not_found", True)  # the repo moved on since it was listed
    if code == "EntryNotFound":
        missing = headers.get("x-world-missing") == "1"
        return FailureReason("not_in_snapshot" if missing else "missing_file", False)
    if message == "Access to this resource is disabled.":
        return FailureReason("disabled", False)
    if status == 429:
        return FailureReason("rate_limited", True)
    if status >= 500 or status == 408:
        return FailureReason("server_error", True)
    if status in (401, 404):
        return FailureReason("not_found", False)
    if 300 <= status < 400:
        return FailureReason("redirect", False)
    return FailureReason("http_error", False)


def reason_for_exception(exc: BaseException) -> FailureReason:
    """Name a request that got no usable answer (after Scrapy's retries)."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, Deferred):
        return FailureReason("rate_limited", True)
    if name in ("DNSLookupError", "CannotResolveHostError", "NoRouteError", "ConnectionRefusedError",
                "DownloadConnectionRefusedError"):
        return FailureReason("unreachable", True)
    if "DataLoss" in text or name == "_DataLoss":
        return FailureReason("truncated_body", True)
    if "Timeout" in name or "TimedOut" in name:
        return FailureReason("timeout", True)
    if "larger than download max size" in text or (name == "IgnoreRequest" and "maxsize" in text.lower()):
        return FailureReason("too_large", False)  # the same body will be as large next time
    if name in ("IgnoreRequest",):
        return FailureReason("ignored", False)
    return FailureReason("connection_error", True)


class Deferred(IgnoreRequest, OpennessError):
    """A request not sent in this crawl because its service's rate limit is spent until later than
    the crawl waits; the target is recorded as deferred and a later crawl takes it up."""

    def __init__(self, service: str, retry_at: datetime):
        super().__init__(f"{service} rate limit spent until {retry_at:%Y-%m-%d %H:%M:%S} UTC")
        self.service, self.retry_at = service, retry_at
