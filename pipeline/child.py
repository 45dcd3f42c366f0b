"""The crawl process: `python -m pipeline.child job.json` runs Scrapy's reactor once, in a role
(the whole crawl, or a distributed crawl's lister, worker or follower), and writes its stats to a
file; `Child` starts one and waits for it. It watches a pipe from its parent and stops when the
parent is gone, and holds the warehouse's crawl lock for as long as it runs."""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time

from openness.scratch import owned_folder, remove_stale_folders
from openness.warehouse.runs import held_lock_fd


class Child:
    """One crawl process (`python -m pipeline.child job.json`) in a role: the whole crawl, or a
    distributed crawl's lister, worker or follower. Its stats come back through a file."""

    def __init__(self, settings: dict, selection: dict, warehouse: str, role: str = "crawl"):
        self.tmp = owned_folder(JOB_PREFIX)
        job = os.path.join(self.tmp.name, "job.json")
        self.result_path = os.path.join(self.tmp.name, "stats.json")
        settings = {**settings, "CRAWL_WORK_DIR": self.tmp.name}
        with open(job, "w", encoding="utf-8") as handle:
            json.dump({"settings": settings, "selection": selection, "warehouse": warehouse, "role": role,
                       "result": self.result_path, "watch_parent": True}, handle)
        # stdin: a pipe the child watches; the parent never writes, so it reads end-of-file only when
        # the parent is gone (killed with -9) and then stops, instead of crawling on beside the next
        # crawl. The crawl lock's fd: the child holds the lock for as long as it runs.
        lock = held_lock_fd(warehouse)
        self.process = subprocess.Popen([sys.executable, "-m", "openness.pipeline.child", job], stdin=subprocess.PIPE,
                                        pass_fds=(lock,) if lock is not None else ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        if self.process.stdin:
            self.process.stdin.close()
        self.tmp.cleanup()
        return False

    def wait(self) -> tuple[int, dict]:
        exitcode = wait_forwarding_interrupts(self.process)
        if not os.path.exists(self.result_path):
            return exitcode, {}
        with open(self.result_path, encoding="utf-8") as handle:
            return exitcode, json.load(handle)


JOB_PREFIX = "openness-crawl-"


def remove_stale_job_folders(root: str | None = None) -> int:
    """Remove the job folders (job.json, stats.json) of crawls whose parent process is gone."""
    return remove_stale_folders(JOB_PREFIX, root)


def wait_forwarding_interrupts(child: subprocess.Popen) -> int:
    """The child ignores the terminal's SIGINT; each interrupt of the parent becomes one SIGTERM to
    the child: the first stops it gracefully, a second one at once (Scrapy's own convention)."""
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGTERM)


def main(job_path: str) -> int:
    """The crawl process: runs Scrapy's reactor once and writes the crawl's stats."""
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from scrapy.crawler import CrawlerProcess

    from openness.crawler.settings import scrapy_settings

    if job.get("watch_parent"):
        _stop_when_parent_is_gone()
    process = CrawlerProcess(scrapy_settings(job["settings"]))
    crawler = process.create_crawler(_spider_class(job.get("role", "crawl")))
    process.crawl(crawler, selection=job["selection"], warehouse=job["warehouse"])
    from twisted.internet import reactor  # only now: importing it earlier installs the wrong reactor

    # Scrapy installs its shutdown handlers for SIGINT and SIGTERM when it starts; the terminal's
    # Ctrl-C reaches the whole process group, so SIGINT is left to the parent, which forwards it.
    reactor.callWhenRunning(signal.signal, signal.SIGINT, signal.SIG_IGN)
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
    stats["openness/peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with open(job["result"], "w", encoding="utf-8") as handle:
        json.dump(stats, handle)
    reason = crawler.stats.get_value("finish_reason")
    if reason is None:  # the spider never ran: the error is in the log above
        return 4
    return 0 if reason == "finished" else 3


def _stop_when_parent_is_gone(grace: float = 30.0) -> None:
    """Watch stdin (the parent's pipe) in a thread: at end-of-file the parent is gone, and the crawl
    stops as on SIGTERM (Scrapy closes the spider; what is buffered is staged and loaded), then,
    should it still run after grace seconds, at once."""
    def watch():
        try:  # the raw fd: a buffered reader's lock, held by this thread, would stall the interpreter's exit
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        os.kill(os.getpid(), signal.SIGTERM)  # Scrapy's second signal: stop now

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _spider_class(role: str):
    if role in ("lister", "worker"):  # scrapy-redis is needed only here
        from openness.crawler.spiders.distributed import ListingSpider, WorkerSpider
        return ListingSpider if role == "lister" else WorkerSpider
    from openness.crawler.spiders.models import ModelsSpider
    return ModelsSpider  # the whole crawl, or a distributed crawl's follow step


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
