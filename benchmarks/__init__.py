"""Speed measured outside the tests: each script prints a JSON report (README.md here)."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def work_folder(keep: Path | None, prefix: str):
    """The folder a benchmark works in: `keep` (made if missing, left in place), else a temporary
    one, removed afterwards."""
    work = keep or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
