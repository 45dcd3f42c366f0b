"""A warehouse found damaged in the middle of a crawl (a block whose checksum fails, a block past
the file's end) stops the crawl: every later load or read would fail the same way, and Scrapy
would log each failure with its traceback. What the user sees is one line saying what to do
(warehouse/db.py's unreadable()); the crawl ends as `warehouse_damaged`.

Scrapy catches the errors of signal handlers and callbacks itself and logs them, so the guard
sits where they surface: a filter on the log handlers, installed while the engine runs."""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor

from openness.warehouse.db import is_damage, unreadable

REASON = "warehouse_damaged"


class WarehouseGuard(logging.Filter):
    def __init__(self, crawler, warehouse: str):
        super().__init__()
        self.crawler = crawler
        self.warehouse = warehouse
        self.found = False

    @classmethod
    def from_crawler(cls, crawler):
        guard = cls(crawler, crawler.settings.get("OPENNESS_WAREHOUSE") or "the warehouse")
        crawler.signals.connect(guard.install, signal=signals.engine_started)
        crawler.signals.connect(guard.remove, signal=signals.engine_stopped)
        return guard

    def install(self):
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)

    def remove(self):
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self)

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
            deferred_from_coro(engine.close_spider_async(reason=REASON))
