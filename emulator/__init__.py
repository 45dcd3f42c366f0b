"""The Hub emulator: serve a world folder over HTTP as the Hub would."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from openness.emulator.limits import FaultSpec, parse_rate_limits
from openness.emulator.server import EmulatorServer
from openness.emulator.store import World


def sample_world_path() -> Path:
    """The bundled demo world (package data)."""
    return Path(str(resources.files("openness.emulator") / "sample"))


def make_server(world_path, host: str = "127.0.0.1", port: int = 0, *, rate_limit: str | None = None,
                faults: str | None = None, log_requests: str | None = None,
                page_size: int = 1000, github_rate_limit: str | None = None,
                uploads: str | None = None, time_scale: float = 1.0, **bounds: int) -> EmulatorServer:
    """A server for one world folder, or several served as one (a list or tuple of folders).
    uploads: a folder where repos created through the server are written (a world folder itself,
    served first); without it the server takes no writes. time_scale: real seconds per second of
    the Hub's rate windows (a crawl of it is told the same, HUB_TIME_SCALE). bounds: max_answer_bytes,
    max_write_bytes (server.py's defaults)."""
    paths = list(world_path) if isinstance(world_path, (list, tuple)) else [world_path]
    if uploads:
        Path(uploads).mkdir(parents=True, exist_ok=True)
        paths = [uploads, *paths]
    return EmulatorServer(World(*paths), host, port, uploads=uploads,
                          rate_limit=parse_rate_limits(rate_limit) if rate_limit else None,
                          faults=FaultSpec.parse(faults), log_path=log_requests, page_size=page_size,
                          github_rate_limit=parse_rate_limits(github_rate_limit) if github_rate_limit else None,
                          time_scale=time_scale, **bounds)


# How often the serving thread looks whether it is asked to stop: what shutting a server down
# waits for at most (socketserver's default, half a second, once per emulator a test starts).
POLL_SECONDS = 0.02


@contextmanager
def serving(world_path, **options):
    """Serve a world on a background thread for the duration of a with-block; yields the server."""
    server = make_server(world_path, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                              name="hub-emulator", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["EmulatorServer", "FaultSpec", "World", "make_server", "sample_world_path", "serving"]
