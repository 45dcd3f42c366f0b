"""Scale-out: two workers share one frontier in a real Redis server; every model is fetched once
and none is lost."""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from collections import Counter

import pytest

from benchmarks.synthetic import write_world
from conftest import request_log, scalar, warehouse_content, world_endpoints
from openness.pipeline.distributed import merge_stats
from openness.pipeline.runner import CrawlConfig, run_crawl

redis = pytest.importorskip("redis", reason="pip install 'openness[distributed]'")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], capture_output=True)
        found = shutil.which("redis-server")
    if found is None:
        pytest.skip("needs Debian's redis-server: apt-get install -y redis-server")
    return found


@pytest.fixture
def redis_url(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(10)


def test_two_workers_fetch_every_model_once(tmp_path, emulator, redis_url):
    world = write_world(tmp_path / "world", 400, seed=7)
    server = emulator(world, page_size=50)
    warehouse = str(tmp_path / "hub.duckdb")
    # a budget far above what the test needs: the anonymous one would hold the workers for a whole
    # 300-second window on a loaded machine, which tests nothing here
    config = dict(warehouse=warehouse, use_token=False, follow_depth=0, rate_budget={"api": (10**6, 1), "resolvers": (10**6, 1)},
                  **world_endpoints(server))
    result = run_crawl(CrawlConfig(redis_url=redis_url, workers=2, **config, settings={"CRAWL_BATCH_MODELS": 20}))

    assert result.status == "complete" and result.models_seen == 400 and result.models_new == 400
    readmes = Counter(e["path"] for e in request_log(server) if e["path"].endswith("/README.md"))
    assert len(readmes) == 400 and set(readmes.values()) == {1}  # every model's card fetched exactly once
    assert scalar(warehouse, "SELECT count(*) FROM models WHERE complete") == 400
    assert scalar(warehouse, "SELECT count(*) FROM documents WHERE path = 'README.md'") == 400
    # both workers took part, each staging batches of its own
    batches = scalar(warehouse, "SELECT list(DISTINCT split_part(split_part(batch_id, '-', -1), '.', 1)) "
                                "FROM loaded_batches WHERE batch_id LIKE '%.%'")
    assert sorted(batches) == ["w1", "w2"]
    assert not redis.Redis.from_url(redis_url).keys("openness:*")  # the frontier is cleared

    # the same world crawled by one process gives the same warehouse
    single = str(tmp_path / "single.duckdb")
    run_crawl(CrawlConfig(**{**config, "warehouse": single}))
    assert warehouse_content(warehouse) == warehouse_content(single)

    again = run_crawl(CrawlConfig(redis_url=redis_url, workers=2, **config))  # nothing changed: listing only
    assert again.models_unchanged == 400 and again.files_fetched == 0


def test_no_worker_takes_a_unit_before_all_have_started(redis_url, caplog, monkeypatch):
    from types import SimpleNamespace

    from scrapy.settings import Settings

    from openness.crawler.spiders import distributed
    from openness.crawler.spiders.distributed import UnitSupply, ready_key

    # no reactor runs here: the test asks open() itself instead of the poll
    monkeypatch.setattr(distributed.task, "LoopingCall", lambda call: SimpleNamespace(start=lambda *a, **k: None))

    def worker():
        crawler = SimpleNamespace(signals=SimpleNamespace(connect=lambda *a, **k: None))
        spider = SimpleNamespace(run_id="r1", crawler=crawler, server=redis.Redis.from_url(redis_url),
                                 logger=logging.getLogger("worker"))
        return UnitSupply(spider, Settings({"OPENNESS_WORKERS": 2, "WORKER_START_TIMEOUT": 30}))

    first, second = worker(), worker()
    assert not first.open()  # not started yet
    first.register()
    assert not first.open()  # 1 of 2
    second.register()
    assert first.open() and second.open()
    assert int(redis.Redis.from_url(redis_url).get(ready_key("r1"))) == 2

    lonely = worker()
    lonely.spider.run_id = "r2"
    lonely.key = ready_key("r2")
    lonely.register()
    assert not lonely.open()
    lonely.deadline = time.monotonic() - 1  # its peer never started: the wait runs out
    with caplog.at_level(logging.WARNING):
        assert lonely.open()
    assert "1 of 2 workers started within 30 s" in caplog.text


def test_an_unreachable_redis_is_a_clear_error(tmp_path, emulator, sample_world):
    from openness.pipeline.errors import CrawlError
    server = emulator(sample_world)
    with pytest.raises(CrawlError, match="cannot reach Redis at redis://u:\\*\\*\\*@127.0.0.1:9/0"):
        run_crawl(CrawlConfig(warehouse=str(tmp_path / "w.duckdb"), use_token=False, redis_url="redis://u:secret@127.0.0.1:9/0",
                              **world_endpoints(server)))


def test_stats_of_the_processes_merge():
    merged = merge_stats([{"openness/requests/api": 3, "openness/peak_rss_mb": 80.0, "finish_reason": "finished"},
                          {"openness/requests/api": 4, "openness/peak_rss_mb": 120.0, "finish_reason": "shutdown"}])
    assert merged == {"openness/requests/api": 7, "openness/peak_rss_mb": 120.0, "finish_reason": "shutdown"}
    budgets = merge_stats([{"openness/budget/api": "500/300", "openness/budget_source/api": "assumed: anonymous"},
                           {"openness/budget/api": "20/2", "openness/budget_source/api": "server"}])
    assert budgets["openness/budget/api"] == "20/2" and budgets["openness/budget_source/api"] == "server"


def test_processes_take_from_one_budget_in_redis(redis_url):
    """Two processes' budgets for one bucket: together they never send more than the quota in a
    window, both get their turn, and a quota one of them learns is the one both pace to."""
    from openness.crawler.shared_budget import SharedBudget, seed

    server = redis.Redis.from_url(redis_url)
    seed(server, "t1", {"api": (5, 1.0)})
    # the hash's quota rules; the crawl's margin widens the window by 0.25 s, which covers the time
    # between Redis taking a place and this test noting it
    ours, theirs = (SharedBudget(server, "t1", "api", 500, 300.0, margin=0.02) for _ in range(2))
    taken = []
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        for name, budget in (("ours", ours), ("theirs", theirs)):
            if budget.acquire(time.monotonic()) <= 0:
                taken.append((time.monotonic(), name))
        time.sleep(0.005)
    times = [t for t, _ in taken]
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 5 for t in times)  # 5 in any second, both together
    assert len(times) >= 10 and {name for _, name in taken} == {"ours", "theirs"}

    learner, other = SharedBudget(server, "t2", "api", 500, 300.0), SharedBudget(server, "t2", "api", 500, 300.0)
    learner.resize(2, 30.0)  # what one process read in the server's RateLimit-Policy
    assert [other.acquire(0.0) <= 0 for _ in range(3)] == [True, True, False]
    assert learner.acquire(0.0) > 25  # the window of 30 s has the two
    server.delete(*server.keys("t1:*"), *server.keys("t2:*"))


@pytest.mark.wallclock
def test_workers_pace_together_to_the_quota_the_server_says(tmp_path, emulator, redis_url):
    """No budget given: the lister and two workers learn the server's quota from its headers (a
    scale-out used to pace to fixed shares of the assumed anonymous budget), take from one window
    in Redis (test above), and every 429 met before the first answers taught them is waited out."""
    world = write_world(tmp_path / "world", 100, seed=3)
    server = emulator(world, page_size=50, rate_limit="api=20/2,resolvers=60/2")
    result = run_crawl(CrawlConfig(warehouse=str(tmp_path / "hub.duckdb"), use_token=False, follow_depth=0,
                                   redis_url=redis_url, workers=2, **world_endpoints(server)))
    assert result.status == "complete" and result.models_seen == 100
    assert "rate_limited" not in result.failures
    assert result.budget == {"api": "20/2 (server)", "resolvers": "60/2 (server)"}
    assert not redis.Redis.from_url(redis_url).keys("openness:*")  # the shared budget is cleared with the run


def test_a_process_whose_redis_goes_away_paces_alone_and_says_so(redis_url, caplog):
    from openness.crawler.shared_budget import SharedBudget, seed

    server = redis.Redis.from_url(redis_url)
    seed(server, "t3", {"api": (2, 30.0)})
    budget = SharedBudget(server, "t3", "api", 2, 30.0)
    budget.server = budget.script.registered_client = redis.Redis(host="127.0.0.1", port=9)  # nobody listens
    with caplog.at_level(logging.WARNING):
        assert [budget.acquire(0.0) <= 0 for _ in range(3)] == [True, True, False]  # its own window of 2 per 30 s
    assert "paces alone" in caplog.text and caplog.text.count("paces alone") == 1
    server.delete(*server.keys("t3:*"))
