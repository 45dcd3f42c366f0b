"""A crawl's progress bar on a terminal, refreshed every second from the crawl's stats (tqdm), with
what the models were (new, changed, unchanged), files and requests beside it.

The bar counts the crawl's steps, not only the models listed: listing a model is one step, reading
a new or changed one's files another, and following a link target one more. Listing ends in the
first second of a crawl that then spends its time fetching and following; a bar of models seen
stood at 100% for the rest. The total grows as the crawl finds more to do (a whole listing's
length is not known in advance; a selection's ids or limit give its first part)."""
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
        reading = "reading the card dump | " if v("openness/bootstrap_reading") else ""
        return (f"{reading}{v('openness/models_new', 0)} new, {v('openness/models_changed', 0)} changed, "
                f"{v('openness/models_unchanged', 0)} unchanged | files {v('openness/files_fetched', 0)} | "
                f"requests api {v('openness/requests/api', 0)} resolvers {v('openness/requests/resolvers', 0)}")

    def show(self):
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, desc="crawl", unit=" steps", file=self.stream, leave=False,
                            dynamic_ncols=True)
        done, total = steps(self.stats.get_value, self.total)
        self.bar.total = total
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix_str(self.details(), refresh=True)

    def closed(self, spider):
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.bar.close()


FETCHED = ("models_new", "models_changed", "models_retried", "models_again", "base_models_new",
           "base_models_changed", "base_models_retried")
SETTLED = ("targets_resolved", "targets_failed", "targets_deferred")


def steps(value, listed_total: int | None = None) -> tuple[int, int]:
    """(steps done, steps known) from a crawl's stats (value(key, default)): each model listed, each
    model whose files are fetched, each link target followed."""
    def count(*keys):
        return sum(int(value(f"openness/{key}", 0) or 0) for key in keys)
    seen = count("models_seen")
    to_fetch, fetched = count(*FETCHED), count("models_staged")
    followed, settled = count("targets_followed"), count(*SETTLED)
    total = max(listed_total or 0, seen) + to_fetch + followed
    done = seen + min(fetched, to_fetch) + min(settled, followed)
    return done, max(total, done)


def selection_total(selection: dict) -> int | None:
    """How many models a selection lists, when it says: its ids, or its limit (a listing may hold
    fewer); None for a whole listing, whose length the Hub does not tell."""
    return len(selection.get("model_ids") or []) or selection.get("limit") or None
