"""A progress bar for long commands: on a terminal only (stderr), quiet when piped or in a job's log.

tqdm draws it (total, rate, time left); huggingface_hub already depends on it. The library calls
`update(done, total)` as it goes; this module owns the bar's life.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def progress_bar(label: str, unit: str, stream=None) -> Iterator[Callable[[int, int], None] | None]:
    """update(done, total) for a bar on `stream` (default stderr) when it is a terminal; None
    otherwise, so the caller passes no callback and nothing is drawn."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit=unit, file=stream, leave=False, dynamic_ncols=True)
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.refresh()  # the end is drawn, whatever tqdm's throttle says

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
