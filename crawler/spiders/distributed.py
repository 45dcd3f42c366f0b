"""Scale-out: one lister and several workers share one frontier in Redis through scrapy-redis.

The lister reads the listing (and the warehouse, to tell new and changed models from unchanged
ones) and puts each model to fetch into a Redis set as one JSON unit: SADD makes a unit that a
repeated listing page lists twice one unit, and scrapy-redis's SPOP-based reading gives each unit
to exactly one worker. A worker (RedisMixin over the models spider) turns a unit into the model's
file requests, fetches them under its share of the rate budget, and stages its rows in its own
batches; it never opens the warehouse. The coordinator (pipeline/distributed.py) loads the batches.
"""
from __future__ import annotations

import json
import time

import redis
import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from twisted.internet import task
from scrapy_redis.spiders import RedisMixin

from openness.crawler import hub
from openness.crawler.records import ModelFetch
from openness.crawler.spiders.models import ModelsSpider

# a worker asks Redis for more units while it fetches fewer models than this
WORKER_LOW_WATER = 32
# how often a worker looks for the other workers (at start) and for new units (when short of them)
POLL_SECONDS = 0.1


def frontier_key(run_id: str) -> str:
    return f"openness:{run_id}:models"


def listed_key(run_id: str) -> str:
    """Set once the lister has ended: an empty frontier then means the crawl's models are all handed out."""
    return f"openness:{run_id}:listed"


def ready_key(run_id: str) -> str:
    """Counts the workers that have started: none takes a unit before all have (or the wait ran out)."""
    return f"openness:{run_id}:ready"


def run_keys(run_id: str) -> tuple[str, ...]:
    return frontier_key(run_id), listed_key(run_id), ready_key(run_id)


class ListingSpider(ModelsSpider):
    name = "hub-models-lister"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.redis = redis.Redis.from_url(crawler.settings.get("REDIS_URL"))
        spider.frontier = frontier_key(spider.run_id)
        return spider

    def dispatch(self, fetch: ModelFetch):
        unit = json.dumps({"state": fetch.state, "payload": fetch.payload, "stored_documents": fetch.stored_documents,
                           "stored_files": fetch.stored_files}, sort_keys=True)
        self.crawler.stats.inc_value("openness/models_dispatched", self.redis.sadd(self.frontier, unit))
        return iter(())


class WorkerSpider(RedisMixin, ModelsSpider):
    name = "hub-models-worker"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.redis_key = frontier_key(spider.run_id)
        spider.redis_batch_size = WORKER_LOW_WATER
        spider.max_idle_time = 0  # the listed flag, not a timeout, ends a worker
        spider.setup_redis(crawler)
        spider.listed_flag = listed_key(spider.run_id)
        spider.units_waiting = 0  # taken from Redis, not yet turned into a model's requests
        spider.supply = UnitSupply(spider, crawler.settings)
        return spider

    def on_idle(self):
        """A worker neither checks for vanished models nor follows links: the coordinator does both."""

    def make_request_from_data(self, data):
        self.units_waiting += 1
        # a data: URI is answered in the process: the unit becomes the model's requests in a callback
        return scrapy.Request("data:,", callback=self.parse_unit, dont_filter=True,
                              meta={"unit": data, "service": "local"})

    def parse_unit(self, response):
        self.units_waiting -= 1
        try:
            unit = json.loads(response.meta["unit"])
            info = hub.parse_model(unit["payload"])
        except (ValueError, KeyError, TypeError) as exc:
            self.crawler.stats.inc_value("openness/bad_units")
            self.logger.error("a frontier unit that is not a model: %s", exc)
            return
        self.crawler.stats.inc_value("openness/units_taken")
        yield from self._fetch_model(ModelFetch(info, unit["payload"], unit["state"],
                                                stored_documents=unit.get("stored_documents") or [],
                                                stored_files=unit.get("stored_files") or {}))

    def next_requests(self):
        if self.supply.open():
            yield from super().next_requests()

    def short_of_units(self) -> bool:
        return self.units_waiting + len(self.fetching) < WORKER_LOW_WATER

    def _release_pages(self):
        """Top up from the frontier as models finish, rather than only when the worker is idle."""
        if self.short_of_units():
            yield from self.next_requests()

    def take_units(self) -> int:
        scheduled = 0
        for request in self.next_requests():
            self.crawler.engine.crawl(request)
            scheduled += 1
        return scheduled

    def spider_idle(self):
        scheduled = self.take_units()
        # units just taken are only scheduled: closing now would drop them
        if (scheduled or self.units_waiting or self.fetching or not self.supply.open()
                or self.count_size(self.redis_key) or not self.server.exists(self.listed_flag)):
            raise DontCloseSpider


class UnitSupply:
    """Holds a worker's first unit until every worker has started, then keeps the worker supplied.

    A worker that started first and took the whole frontier would do all the fetching and
    extracting on one core while the others found nothing left (they share one rate budget, not
    the CPU). A worker that
    never starts must not hold the others for ever: after WORKER_START_TIMEOUT seconds the gate opens
    anyway. Once open, a short poll tops a worker up that is short of units: the engine's idle
    heartbeat is seconds apart, time in which a busy worker would take what the lister just listed."""

    def __init__(self, spider: WorkerSpider, settings):
        self.spider = spider
        self.workers = settings.getint("OPENNESS_WORKERS", 1)
        self.timeout = settings.getfloat("WORKER_START_TIMEOUT")
        self.key = ready_key(spider.run_id)
        self.deadline = None
        self.is_open = False
        # made when the spider opens: a LoopingCall installs a reactor, and Scrapy installs its own later
        self.poll = None
        spider.crawler.signals.connect(self.register, signal=signals.spider_opened)
        spider.crawler.signals.connect(self.stop, signal=signals.spider_closed)

    def register(self):
        self.spider.server.incr(self.key)
        self.deadline = time.monotonic() + self.timeout
        self.poll = task.LoopingCall(self._poll)
        self.poll.start(POLL_SECONDS, now=False)

    def open(self) -> bool:
        if self.is_open or self.deadline is None:
            return self.is_open
        started = int(self.spider.server.get(self.key) or 0)
        if started >= self.workers:
            self.is_open = True
        elif time.monotonic() > self.deadline:
            self.spider.logger.warning("%d of %d workers started within %.0f s: this one starts without the rest",
                                       started, self.workers, self.timeout)
            self.is_open = True
        return self.is_open

    def _poll(self):
        if self.open() and self.spider.short_of_units():
            self.spider.take_units()

    def stop(self, *args, **kwargs):
        if self.poll is not None and self.poll.running:
            self.poll.stop()
