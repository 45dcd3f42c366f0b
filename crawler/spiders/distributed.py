"""Scale-out: one lister and several workers share one frontier in Redis through scrapy-redis.

The lister reads the listing (and the warehouse, to tell new and changed models from unchanged
ones) and puts each model to fetch into a Redis set as one JSON unit: SADD makes a unit that a
repeated listing page lists twice one unit, and scrapy-redis's SPOP-based reading gives each unit
to exactly one worker. A worker (RedisMixin over the models spider) turns a unit into the model's
file requests, fetches them under its share of the rate budget, and stages its rows in its own
batches; it never opens the warehouse. The coordinator (crawler/distributed.py) loads the batches.
"""
from __future__ import annotations

import json

import redis
import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.spiders import RedisMixin

from crawler import hub
from crawler.records import ModelFetch
from crawler.spiders.models import ModelsSpider

# a worker asks Redis for more units while it fetches fewer models than this
WORKER_LOW_WATER = 32


def frontier_key(run_id: str) -> str:
    return f"openness:{run_id}:models"


def listed_key(run_id: str) -> str:
    """Set once the lister has ended: an empty frontier then means the crawl's models are all handed out."""
    return f"openness:{run_id}:listed"


class ListingSpider(ModelsSpider):
    name = "hub-models-lister"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.redis = redis.Redis.from_url(crawler.settings.get("REDIS_URL"))
        spider.frontier = frontier_key(spider.run_id)
        return spider

    def dispatch(self, fetch: ModelFetch):
        unit = json.dumps({"state": fetch.state, "payload": fetch.payload}, sort_keys=True)
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
        return spider

    def on_idle(self):
        """A worker neither checks for vanished models nor follows links: the coordinator does both."""

    def make_request_from_data(self, data):
        # a data: URI is answered in the process: the unit becomes the model's requests in a callback
        return scrapy.Request("data:,", callback=self.parse_unit, dont_filter=True,
                              meta={"unit": data, "service": "local"})

    def parse_unit(self, response):
        try:
            unit = json.loads(response.meta["unit"])
            info = hub.parse_model(unit["payload"])
        except (ValueError, KeyError, TypeError) as exc:
            self.crawler.stats.inc_value("openness/bad_units")
            self.logger.error("a frontier unit that is not a model: %s", exc)
            return
        self.crawler.stats.inc_value("openness/units_taken")
        yield from self._fetch_model(ModelFetch(info, unit["payload"], unit["state"]))

    def _release_pages(self):
        """Top up from the frontier as models finish, rather than only when the worker is idle."""
        if len(self.fetching) < WORKER_LOW_WATER:
            yield from self.next_requests()

    def spider_idle(self):
        scheduled = 0
        for request in self.next_requests():
            self.crawler.engine.crawl(request)
            scheduled += 1
        # units just taken are only scheduled: closing now would drop them
        if scheduled or self.fetching or self.count_size(self.redis_key) or not self.server.exists(self.listed_flag):
            raise DontCloseSpider
