"""The staging pipeline: items -> rows (and the extractors' findings) stamped with the run id ->
staged Parquet -> warehouse.

A batch is loaded as soon as it is staged, so the write lock is held one batch at a time and a
crawl killed half way keeps every batch it loaded; the next crawl skips what is stored.
"""
from __future__ import annotations

import logging
import time

from scrapy import signals

from openness.crawler.extraction import Extraction
from openness.crawler.signals import flush_requested, items_decided
from openness.extractors.links import link_rows
from openness.warehouse.errors import DiskFull
from openness.warehouse.load import LOAD_MEMORY_MB, load_staged
from openness.warehouse.staging import BatchWriter, staging_dir

logger = logging.getLogger(__name__)


class StagingPipeline:
    def __init__(self, warehouse: str, run_id: str, batch_models: int, batch_seconds: float, stats,
                 load: bool = True, tag: str = "", extract_processes: int = 0, load_memory_mb: int = LOAD_MEMORY_MB):
        self.warehouse = warehouse
        self.run_id = run_id
        self.batch_models = batch_models
        self.batch_seconds = batch_seconds
        self.stats = stats
        self.root = staging_dir(warehouse)
        self.writer = BatchWriter(self.root, run_id, tag)
        self.load = load  # a distributed worker only stages; the coordinator loads
        self.load_memory_mb = load_memory_mb
        self.extraction = Extraction(extract_processes)
        self.models_buffered = 0
        self.last_flush = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        pipeline = cls(s.get("OPENNESS_WAREHOUSE"), s.get("OPENNESS_RUN_ID"), s.getint("CRAWL_BATCH_MODELS"),
                       s.getfloat("CRAWL_BATCH_SECONDS"), crawler.stats, s.getbool("OPENNESS_LOAD_STAGED", True), s.get("OPENNESS_BATCH_TAG", ""),
                       s.getint("EXTRACT_PROCESSES"), s.getint("WAREHOUSE_LOAD_MEMORY_MB"))
        crawler.signals.connect(pipeline.flush, signal=flush_requested)
        crawler.signals.connect(pipeline.add_items, signal=items_decided)
        crawler.signals.connect(pipeline.item_failed, signal=signals.item_error)
        return pipeline

    def item_failed(self, item, response=None, spider=None, failure=None) -> None:
        """Scrapy logs a pipeline error and drops the item; the run must not call itself complete."""
        self.stats.inc_value("openness/item_errors")

    # Items of what links lead to: their table, and whether they carry fetched texts.
    LINKED = {"target": "link_targets", "dataset": "datasets", "code_repo": "code_repos", "paper": "papers"}

    async def process_item(self, item, spider=None):
        if item["kind"] == "model":
            # Extraction is CPU work: it runs off the reactor's thread (crawler/extraction.py), so
            # downloads go on and requests leave when the rate budget says, not in a burst.
            self._add_model(item, await self.extraction.findings(item))
        else:
            self._add_item(item)
        if (self.models_buffered >= self.batch_models
                or time.monotonic() - self.last_flush >= self.batch_seconds):
            self.flush()
        return item

    def add_items(self, items: list[dict]) -> None:
        """Items decided without a response (signal items_decided): never a model."""
        for item in items:
            self._add_item(item)

    def _add_item(self, item: dict) -> None:
        kind = item["kind"]
        if kind == "stats":
            self._add("model_stats", item["row"])
        elif kind == "failure":
            self._add("fetch_failures", item["row"])
        elif kind == "vanished":
            self._add("vanished_models", item["row"])
        elif kind in self.LINKED:
            self._add(self.LINKED[kind], item["row"])
            for row in item.get("documents", ()):
                self._add("linked_documents", row)
            self.models_buffered += kind != "target"

    def _add_model(self, item: dict, findings: list) -> None:
        model = item["model"]
        self._add("models", model)
        self.stats.inc_value("openness/models_staged")
        for table in ("repo_files", "documents", "fetch_failures"):
            for row in item[table]:
                self._add(table, row)
        for finding in findings:
            self._add("findings", finding.as_row())
        for row in link_rows(model["model_id"], model["sha"], findings, item.get("depth", 0) + 1):
            self._add("model_links", row)
        self.models_buffered += 1

    def _add(self, table: str, row: dict) -> None:
        row["run_id"] = self.run_id
        self.writer.add(table, row)

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        self.models_buffered = 0
        try:
            written = self.writer.write()
        except OSError as exc:  # a full disk, a folder gone: this batch's models are fetched again next time
            logger.error("staging a batch failed (%s): its %d models are not stored; the next crawl fetches them",
                         exc.strerror or exc, self.writer.lost_models)
            self.stats.set_value("openness/models_not_staged", self.writer.lost_models)
            return
        finally:
            self.stats.set_value("openness/rows_repaired", self.writer.repaired)
        if written is None:
            return
        if not self.load:
            self.stats.inc_value("openness/batches_staged")
            return
        try:
            rows = load_staged(self.warehouse, self.root, discard=False, memory_limit_mb=self.load_memory_mb)
        except DiskFull as exc:  # the batch stays staged, and is loaded once there is room
            self.stats.inc_value("openness/load_failures")
            if self.stats.get_value("openness/load_failures") == 1:
                logger.error("%s", exc)
            return
        self.stats.inc_value("openness/batches_loaded")
        self.stats.inc_value("openness/rows_loaded", rows)

    def close_spider(self, spider=None):
        self.extraction.close()
        self.flush()
