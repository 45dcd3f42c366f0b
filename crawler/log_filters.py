"""What of Scrapy's log reaches the user's terminal. Scrapy catches the errors of signal handlers
and callbacks itself and logs them, tracebacks and all, and its retry middleware logs every request
it gives up on as an ERROR; the crawl records each of those itself (fetch_failures, link_targets)
and its summary counts them. These filters sit on the log handlers while the engine runs:

- WarehouseGuard: a warehouse found damaged in the middle of a crawl (a block whose checksum
  fails, a block past the file's end) stops the crawl, since every later load or read would fail
  the same way; the user sees one line saying what to do (warehouse/db.py's unreadable()) and the
  crawl ends as `warehouse_damaged`.
- QuietRetries: "Gave up retrying" lines are counted (openness/retries_given_up), not printed,
  unless the crawl logs at INFO or below (`-v`).
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor

from openness.warehouse.db import is_damage, unreadable

DAMAGED = "warehouse_damaged"
RETRY_LOGGER = "scrapy.downloadermiddlewares.retry"


class HandlerFilter(logging.Filter):
    """A filter on every handler of the root logger (where Scrapy's records end), from the
    engine's start to its stop."""

    def __init__(self, crawler):
        super().__init__()
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.install, signal=signals.engine_started)
        crawler.signals.connect(extension.remove, signal=signals.engine_stopped)
        return extension

    def install(self):
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)

    def remove(self):
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self)


class WarehouseGuard(HandlerFilter):
    def __init__(self, crawler, warehouse: str | None = None):
        super().__init__(crawler)
        self.warehouse = warehouse or crawler.settings.get("OPENNESS_WAREHOUSE") or "the warehouse"
        self.found = False

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not is_damage(exc):
            return True
        if self.found:
            return False  # said once; the rest are the same damage met again
        self.found = True
        record.msg, record.args, record.exc_info, record.exc_text = str(unreadable(self.warehouse, exc)), (), None, None
        self.crawler.stats.set_value("openness/warehouse_damaged", 1)
        reactor.callLater(0, self._stop)
        return True

    def _stop(self):
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=DAMAGED))


class QuietRetries(HandlerFilter):
    def __init__(self, crawler):
        super().__init__(crawler)
        level = crawler.settings.get("LOG_LEVEL") or "DEBUG"
        number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
        self.shown = isinstance(number, int) and number <= logging.INFO

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != RETRY_LOGGER or record.levelno < logging.ERROR:
            return True
        self.crawler.stats.inc_value("openness/retries_given_up")
        return self.shown
