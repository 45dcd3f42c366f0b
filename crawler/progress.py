"""A crawl's progress bar on a terminal, refreshed every second from the crawl's stats: models seen,
of the selection's total when it has one (`--model` ids, `--limit`), with their rate and the time
left (tqdm); what they were (new, changed, unchanged), files and requests beside it."""
from __future__ import annotations

import sys

from scrapy import signals
from twisted.internet import task


class Progress:
    def __init__(self, stats, stream=None, total: int | None = None):
        self.stats = stats
        self.stream = stream or sys.stderr
        self.total = total
        self.loop = None
        self.bar = None

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler.stats)
        if crawler.settings.getbool("OPENNESS_PROGRESS", True) and extension.stream.isatty():
            crawler.signals.connect(extension.opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider):
        self.total = self.total or selection_total(getattr(spider, "selection", None) or {})
        self.loop = task.LoopingCall(self.show)
        self.loop.start(1.0)

    def details(self) -> str:
        v = self.stats.get_value
        return (f"{v('openness/models_new', 0)} new, {v('openness/models_changed', 0)} changed, "
                f"{v('openness/models_unchanged', 0)} unchanged | files {v('openness/files_fetched', 0)} | "
                f"requests api {v('openness/requests/api', 0)} resolvers {v('openness/requests/resolvers', 0)}")

    def show(self):
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, desc="crawl", unit=" models", file=self.stream, leave=False,
                            dynamic_ncols=True)
        self.bar.update(self.stats.get_value("openness/models_seen", 0) - self.bar.n)
        self.bar.set_postfix_str(self.details(), refresh=True)

    def closed(self, spider):
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.bar.close()


def selection_total(selection: dict) -> int | None:
    """How many models a selection lists, when it says: its ids, or its limit (a listing may hold
    fewer); None for a whole listing, whose length the Hub does not tell."""
    return len(selection.get("model_ids") or []) or selection.get("limit") or None
