"""What one model's extraction may cost. A card is untrusted input, and a megabyte line of links
or a pathological table must not hold a worker for minutes: each extractor gets a time budget per
record, and each document a size budget; past either, what was found is recorded as too complex
(an `extractor.error` finding) and the model is stored with the rest.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

# Seconds one extractor may spend on one record. Extraction is linear in a document's size (a line
# of 6,400 links: ~10 s for all extractors together), so only a card built to be slow reaches it.
MAX_SECONDS = 30.0
# Characters of one document the extractors read: a crawl stores documents up to 5 MB
# (CRAWL_MAX_DOCUMENT_BYTES); a model card past two million characters is no card a reader reads.
MAX_DOCUMENT_CHARS = 2_000_000


class TooComplex(Exception):
    """An extractor ran past its time budget on one record."""


@contextmanager
def time_budget(seconds: float):
    """Raise TooComplex in the block once `seconds` have passed. A timer signal interrupts the
    extractor between two steps of its work (one regular expression runs to its end: the size
    budget and the bounded clauses keep each short), so it works in a process's main thread only:
    the crawl's extraction workers and `openness extract`. Elsewhere (a thread) the block runs
    unbounded, and the size budget alone applies."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TooComplex(f"more than {seconds:g} s on this record")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
