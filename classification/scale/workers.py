"""Chunks of classification run in worker processes, one per core, in the order they were given.

Classification is CPU work in Python, so threads would take turns; processes run side by side.
Chunks are handed out a few ahead of the one being written (the warehouse has one writer: the
caller), and their results come back in the order the chunks went out, so a run writes the same
rows in the same order whatever the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from openness.classification.scale.chunk import ChunkInput, ChunkOutput, classify_chunk


@contextmanager
def chunk_runner(workers: int) -> Iterator[Callable[[Iterable[ChunkInput]], Iterator[ChunkOutput]]]:
    """A function from chunks to their outputs, in order: in this process with one worker, else
    through a pool of `workers` processes that lives as long as the block."""
    if workers <= 1:
        yield lambda chunks: map(classify_chunk, chunks)
        return
    # spawn, not fork: the parent holds a DuckDB connection and its threads, which a fork copies
    # half-way; a spawned worker imports only what classification needs
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield lambda chunks: _in_order(pool, chunks, ahead=workers + 1)


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """In a worker: exit as soon as the process that started it is gone. A parent killed with -9
    never shuts its pool down, and its workers (~450 MB each) would sit waiting for chunks that
    never come; the crawl's own process watches its parent the same way."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _in_order(pool: ProcessPoolExecutor, chunks: Iterable[ChunkInput], ahead: int) -> Iterator[ChunkOutput]:
    """Keep `ahead` chunks in the pool; yield their outputs in the order the chunks came. Reading
    the next chunk (the caller's generator) overlaps with the workers' classifying."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.submit(classify_chunk, chunk))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
