"""A listing page too large to read never ends the listing: it is asked again in halves, so the one
model too large alone is recorded and passed, its neighbours are read, and the pages after it too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import request_log, rows, world_endpoints
from openness.crawler.listing_pages import next_page, page_limit, smaller_page, with_limit
from openness.pipeline.runner import CrawlConfig, run_crawl

BASE = "https://hub.example/api/models?author=a&limit=1000&expand=cardData&cursor=abc"


def test_a_page_is_halved_down_to_one_model_keeping_its_cursor():
    assert page_limit(BASE) == 1000 and page_limit("https://hub.example/api/models") is None
    assert smaller_page(BASE) == BASE.replace("limit=1000", "limit=500")
    assert smaller_page(with_limit(BASE, 3)) == BASE.replace("limit=1000", "limit=2")  # halves cover the page
    assert smaller_page(with_limit(BASE, 2)) == BASE.replace("limit=1000", "limit=1")
    assert smaller_page(with_limit(BASE, 1)) is None
    assert with_limit("https://hub.example/api/models?author=a", 7) == "https://hub.example/api/models?author=a&limit=7"


def test_the_listing_goes_back_to_its_own_size_once_the_trouble_is_passed():
    after = "https://hub.example/api/models?author=a&limit=250&cursor=next"
    halved = with_limit(BASE, 250)
    # the first half read: the next page, which holds the trouble, at the same size
    assert next_page(after, halved, 1000, halved_and_read=False) == (after, True)
    # that one read too: the halves only failed together; back to 1,000
    assert next_page(after, halved, 1000, halved_and_read=True) == (after.replace("250", "1000"), False)
    # a full page, or no next page, changes nothing
    assert next_page(after.replace("250", "1000"), BASE, 1000, False) == (after.replace("250", "1000"), False)
    assert next_page(None, halved, 1000, False) == (None, False)


def _world(root: Path, huge: set[int], count: int) -> Path:
    for n in range(count):
        folder = root / "models" / "team" / f"m{n:02d}"
        (folder / "files").mkdir(parents=True)
        card = {"license": "mit", **({"notes": "n" * 300_000} if n in huge else {})}
        (folder / "info.json").write_text(json.dumps({"cardData": card}), "utf-8")
        (folder / "files" / "README.md").write_text("---\nlicense: mit\n---\n# A model\n", "utf-8")
    return root


@pytest.mark.parametrize("huge, page_size", [({5}, 1000), ({0}, 1000), ({9}, 1000), ({3, 11}, 8), (set(), 4)])
def test_a_too_large_model_costs_itself_alone(tmp_path, emulator, warehouse, huge, page_size):
    count = 14
    server = emulator(_world(tmp_path / "world", huge, count), page_size=page_size)
    result = run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0,
                                   settings={"HUB_MAX_PAGE_BYTES": 150_000}, **world_endpoints(server)))
    stored = {r[0] for r in rows(warehouse, "SELECT model_id FROM models")}
    assert stored == {f"team/m{n:02d}" for n in range(count) if n not in huge}
    failed = rows(warehouse, "SELECT reason, url FROM fetch_failures ORDER BY url")
    assert [r[0] for r in failed] == ["too_large"] * len(huge)
    assert all("limit=1&" in r[1] for r in failed)
    assert result.status == ("partial" if huge else "complete")
    listings = [r for r in request_log(server) if r["path"].startswith("/api/models?")]
    assert len(listings) <= (1 + 2 * 10) * max(1, len(huge)) + count // page_size + 1
