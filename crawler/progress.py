"""A one-line progress display on a terminal, refreshed every second from the crawl's stats."""
from __future__ import annotations

import sys

from scrapy import signals
from twisted.internet import task


class Progress:
    def __init__(self, stats, stream=None):
        self.stats = stats
        self.stream = stream or sys.stderr
        self.loop = None
        self.shown = False

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler.stats)
        if crawler.settings.getbool("OPENNESS_PROGRESS", True) and extension.stream.isatty():
            crawler.signals.connect(extension.opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider):
        self.loop = task.LoopingCall(self.show)
        self.loop.start(1.0)

    def line(self) -> str:
        v = self.stats.get_value
        return (f"models {v('openness/models_seen', 0)} seen, "
                f"{v('openness/models_new', 0)} new, {v('openness/models_changed', 0)} changed, "
                f"{v('openness/models_unchanged', 0)} unchanged | files {v('openness/files_fetched', 0)} | "
                f"requests api {v('openness/requests/api', 0)} resolvers {v('openness/requests/resolvers', 0)}")

    def show(self):
        self.shown = True
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()

    def closed(self, spider):
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
