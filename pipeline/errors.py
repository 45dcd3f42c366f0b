"""Every error the orchestration (crawls, jobs, profiles, scale-out) raises on purpose; the CLI turns
each into one line and a documented exit code."""
from __future__ import annotations

from openness.errors import OpennessError


class PipelineError(OpennessError):
    """Base of the orchestration's own errors."""


class CrawlError(PipelineError):
    """A crawl could not run or did not finish."""


class CrawlInterrupted(CrawlError):
    """The crawl stopped early (interrupt, signal); what it loaded is kept."""

    def __init__(self, message: str, result):
        super().__init__(message)
        self.result = result


class ProfileError(PipelineError):
    """A profile file that cannot be read, or says something that cannot be done."""


class JobOverlap(PipelineError):
    """The previous job of this warehouse is still running."""
