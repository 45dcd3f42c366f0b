"""Where a crawl runs the extractors: in worker processes, so extraction (CPU work: a long card
takes milliseconds, a megabyte one a second) uses the other cores instead of sharing the GIL with
the reactor that keeps requests flowing; or, with EXTRACT_PROCESSES = 0, in a thread."""
from __future__ import annotations

import asyncio
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor

from twisted.internet.threads import deferToThread
from scrapy.utils.defer import maybe_deferred_to_future

from openness.extractors import ModelRecord, extract_all


def extract_item(model: dict, files: list[dict], documents: list[dict]) -> list:
    """The findings of one fetched model (run in a worker process: arguments and result pickle)."""
    return extract_all(ModelRecord.from_rows(model, files, documents))


def _ignore_interrupts() -> None:
    """A terminal's Ctrl-C reaches the whole process group; the crawl process decides how to stop,
    and shuts its workers down when it does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Extraction:
    def __init__(self, processes: int):
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None

    async def findings(self, item: dict) -> list:
        # a re-fetch of an incomplete commit: the documents stored before count with the new ones
        args = (item["model"], item["repo_files"], item.get("stored_documents", []) + item["documents"])
        if self.processes <= 0:
            return await maybe_deferred_to_future(deferToThread(extract_item, *args))
        if self.pool is None:
            # forkserver: workers start from a clean process that imported the extractors once,
            # never from a fork of this threaded one
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["openness.extractors", "openness.crawler.extraction"])
            self.pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_ignore_interrupts)
        return await asyncio.wrap_future(self.pool.submit(extract_item, *args))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=False)
            self.pool = None
