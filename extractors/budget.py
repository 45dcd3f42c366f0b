"""What one model's extraction may cost. A card is untrusted input, and a megabyte line of links
or a pathological table must not hold a worker for minutes: each extractor gets a time budget per
record, and each document a size budget; past either, what was found is recorded as too complex
(an `extractor.error` finding) and the model is stored with the rest.
"""
from __future__ import annotations

import ctypes
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

    def __init__(self, message: str = "past its time budget on this record"):
        super().__init__(message)


@contextmanager
def time_budget(seconds: float):
    """Raise TooComplex in the block once `seconds` have passed. The extractor is interrupted
    between two steps of its work (one regular expression runs to its end: the size budget and the
    bounded clauses keep each short): in a process's main thread by a timer signal (the crawl's
    extraction workers, `openness extract`), in any other thread (a crawl's extraction thread,
    EXTRACT_PROCESSES 0) by an exception a watchdog timer raises in it."""
    if seconds <= 0:
        yield
    elif threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _signal_budget(seconds):
            yield
    else:
        with _thread_budget(seconds):
            yield


@contextmanager
def _signal_budget(seconds: float):
    def expire(signum, frame):
        raise TooComplex(f"more than {seconds:g} s on this record")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_THREAD_BUDGETS: dict[int, str] = {}  # thread id -> its budget's seconds, for the message


class _ThreadTimeUp(TooComplex):
    """Raised in a thread from outside, as a class: the message says what the signal's says."""

    def __init__(self):
        super().__init__(f"more than {_THREAD_BUDGETS.get(threading.get_ident(), '?')} s on this record")


@contextmanager
def _thread_budget(seconds: float):
    raise_in = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if raise_in is None:  # not CPython: the size budget alone applies
        yield
        return
    ident = threading.get_ident()
    lock = threading.Lock()
    done = False

    def expire():
        with lock:  # never once the block is left: the exception must land inside it
            if not done:
                raise_in(ctypes.c_ulong(ident), ctypes.py_object(_ThreadTimeUp))
    _THREAD_BUDGETS[ident] = f"{seconds:g}"
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            done = True
        timer.cancel()
        _THREAD_BUDGETS.pop(ident, None)
