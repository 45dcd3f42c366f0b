"""Temporary folders that say whose they are: each holds its owner's process id, so a later start
removes the folders of owners killed with -9 (which never reach their own cleanup). A crawl's job
folder holds its settings, a publish's the whole snapshot: neither may pile up in /tmp."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

OWNER_FILE = "owner.pid"


def owned_folder(prefix: str) -> tempfile.TemporaryDirectory:
    """A new temporary folder (removed on cleanup) whose owner is this process; the stale folders
    of the same prefix are removed first."""
    remove_stale_folders(prefix)
    folder = tempfile.TemporaryDirectory(prefix=prefix)
    Path(folder.name, OWNER_FILE).write_text(str(os.getpid()), "utf-8")
    return folder


def remove_stale_folders(prefix: str, root: str | None = None) -> int:
    """Remove the folders of this prefix whose owner process is gone; how many were removed."""
    removed = 0
    for folder in Path(root or tempfile.gettempdir()).glob(prefix + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text("utf-8").strip())
        except (OSError, ValueError):
            continue  # not ours, or still being written
        if not alive(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        pass
    return True
