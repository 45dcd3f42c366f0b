"""The staging pipeline: items -> rows (and the extractors' findings) stamped with the run id ->
staged Parquet -> warehouse.

A batch is loaded as soon as it is staged, so the write lock is held one batch at a time and a
crawl killed half way keeps every batch it loaded; the next crawl skips what is stored.
"""
from __future__ import annotations

import time

from extractors import ModelRecord, extract_all
from warehouse.load import load_staged
from warehouse.staging import BatchWriter, staging_dir


class StagingPipeline:
    def __init__(self, warehouse: str, run_id: str, batch_models: int, batch_seconds: float, stats,
                 endpoint: str = ""):
        self.warehouse = warehouse
        self.endpoint = endpoint.rstrip("/")
        self.run_id = run_id
        self.batch_models = batch_models
        self.batch_seconds = batch_seconds
        self.stats = stats
        self.root = staging_dir(warehouse)
        self.writer = BatchWriter(self.root, run_id)
        self.models_buffered = 0
        self.last_flush = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("OPENNESS_WAREHOUSE"), s.get("OPENNESS_RUN_ID"), s.getint("CRAWL_BATCH_MODELS"),
                   s.getfloat("CRAWL_BATCH_SECONDS"), crawler.stats, s.get("HUB_ENDPOINT"))

    def process_item(self, item, spider=None):
        kind = item["kind"]
        if kind == "model":
            self._add("models", item["model"])
            for table in ("repo_files", "documents", "fetch_failures"):
                for row in item[table]:
                    self._add(table, row)
            for finding in self._extract(item):
                self._add("findings", finding.as_row())
            self.models_buffered += 1
        elif kind == "stats":
            self._add("model_stats", item["row"])
        elif kind == "failure":
            self._add("fetch_failures", item["row"])
        if (self.models_buffered >= self.batch_models
                or time.monotonic() - self.last_flush >= self.batch_seconds):
            self.flush()
        return item

    def _extract(self, item: dict):
        model = item["model"]
        info_url = f"{self.endpoint}/api/models/{model['model_id']}"
        return extract_all(ModelRecord.from_rows(model, item["repo_files"], item["documents"], info_url))

    def _add(self, table: str, row: dict) -> None:
        row["run_id"] = self.run_id
        self.writer.add(table, row)

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if self.writer.write() is None:
            return
        self.models_buffered = 0
        rows = load_staged(self.warehouse, self.root)
        self.stats.inc_value("openness/batches_loaded")
        self.stats.inc_value("openness/rows_loaded", rows)

    def close_spider(self, spider=None):
        self.flush()
