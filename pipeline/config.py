"""What one crawl is asked to do: the one crawl configuration. Its defaults are the settings
table's (crawler/settings.py); the CLI's options, a scheduled job's profile (from_profile) and the
demo each build one, and run_crawl turns it into the crawl process's settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from openness.crawler.settings import DEFAULTS


@dataclass
class CrawlConfig:
    warehouse: str
    endpoint: str = DEFAULTS["HUB_ENDPOINT"]
    authors: list[str] = field(default_factory=list)
    search: str | None = None
    filters: list[str] = field(default_factory=list)
    sort: str | None = None
    limit: int | None = None
    model_ids: list[str] = field(default_factory=list)
    full: bool = False
    bootstrap: str = DEFAULTS["CRAWL_BOOTSTRAP"]  # a card dump's dataset id, 'auto' or 'off' (crawler/spiders/bootstrap.py)
    licence_files: str = DEFAULTS["CRAWL_LICENCE_FILES"]  # now, spare, later or auto (crawler/licence_files.py)
    fetch_file_sizes: bool = DEFAULTS["CRAWL_FETCH_FILE_SIZES"]
    sizes_now: bool = DEFAULTS["CRAWL_SIZES_NOW"]  # every weight size in this crawl, not from spare capacity only
    rate_budget: dict | None = None  # {bucket: (count, seconds)}; None: by token presence
    use_token: bool = True
    follow_depth: int = DEFAULTS["FOLLOW_MAX_DEPTH"]  # 0: follow no links
    github_api: str = DEFAULTS["GITHUB_API"]
    web_base: str | None = None
    fetch_papers: bool = DEFAULTS["FOLLOW_PAPERS"]
    workers: int = DEFAULTS["CRAWL_WORKERS"]  # with redis_url: processes fetching models from a shared frontier
    redis_url: str | None = None   # set: a distributed crawl (pipeline/distributed.py)
    settings: dict = field(default_factory=dict)  # further Scrapy/openness settings

    def selection(self) -> dict:
        return {"authors": self.authors, "search": self.search, "filters": self.filters, "sort": self.sort,
                "limit": self.limit, "model_ids": self.model_ids, "full": self.full}

    def load_memory_mb(self) -> int:
        """The cap on DuckDB's memory for every batch load of the crawl, this process's as well as
        the crawl process's."""
        return int(self.settings.get("WAREHOUSE_LOAD_MEMORY_MB", DEFAULTS["WAREHOUSE_LOAD_MEMORY_MB"]))

    @classmethod
    def from_profile(cls, profile) -> "CrawlConfig":
        """A scheduled job's crawl: what its profile (pipeline/profiles.py) says, the defaults for the rest."""
        sel, crawl, ends = profile.selection, profile.crawl, profile.endpoints
        config = cls(warehouse=str(profile.warehouse), endpoint=profile.hub, authors=sel.get("authors", []),
                     search=sel.get("search"), filters=sel.get("filters", []), sort=sel.get("sort"),
                     limit=sel.get("limit"), model_ids=sel.get("model_ids", []), web_base=ends.get("web_base"),
                     rate_budget=crawl.get("rate_budget"))
        for key, name in (("file_sizes", "fetch_file_sizes"), ("sizes_now", "sizes_now"), ("papers", "fetch_papers"),
                          ("follow_depth", "follow_depth"), ("licence_files", "licence_files")):
            if key in crawl:
                setattr(config, name, crawl[key])
        if "github_api" in ends:
            config.github_api = ends["github_api"]
        if "concurrency" in crawl:
            config.settings["CONCURRENT_REQUESTS"] = crawl["concurrency"]
        return config
