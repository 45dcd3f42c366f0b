"""Every setting of a crawl, its default and what it is for, in one table.

Scrapy reads them from its settings object; `scrapy_settings()` builds that object from a
CrawlConfig. Endpoints are settings so the same code runs against the real Hub and the emulator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huggingface_hub import constants

# The Hub's documented budgets per 5-minute window (hub-docs rate-limits.md).
HUB_BUDGETS = {
    "anonymous": {"api": (500, 300), "resolvers": (3000, 300)},
    "free": {"api": (1000, 300), "resolvers": (5000, 300)},
    "pro": {"api": (2500, 300), "resolvers": (12000, 300)},
    "team": {"api": (3000, 300), "resolvers": (20000, 300)},
    "enterprise": {"api": (6000, 300), "resolvers": (50000, 300)},
}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("HUB_ENDPOINT", constants.ENDPOINT,
            "Base URL of the Hub (or of an emulator); huggingface_hub's own default, which honours HF_ENDPOINT."),
    Setting("HUB_USE_TOKEN", True, "Send the Hub token (HF_TOKEN or the huggingface_hub login) to the Hub's host."),
    Setting("HUB_RATE_BUDGET", HUB_BUDGETS["anonymous"],
            "Requests allowed per bucket: {bucket: (count, window seconds)}; never exceeded in any "
            "window. Defaults to the anonymous budget, or the free one when a token is found."),
    Setting("HUB_RATE_BUDGET_SOURCE", "given",
            "Where HUB_RATE_BUDGET came from: 'given' (the user's, kept as it is) or 'assumed: ...' (replaced "
            "by what the Hub's RateLimit-Policy headers say, from its first answer on)."),
    Setting("HUB_RATE_BUDGET_SHARED", None,
            "A Redis key prefix (with REDIS_URL): every process of a distributed crawl takes from one budget "
            "kept there, and paces to the quota any of them learned; set by `crawl --redis`."),
    Setting("HUB_RATE_WINDOW_MARGIN", 0.02,
            "Widen each budget window by this share (0.25 s at least), for requests delayed on their way to the server."),
    Setting("HUB_MAX_429_RETRIES", 8, "How often one request is retried after 429 answers."),
    Setting("HUB_TIME_SCALE", 1.0,
            "Real seconds per second of the Hub's rate windows. 1 for the real Hub; an emulator served with a "
            "time scale (tests of pacing logic) is crawled at the same one, so a 2-second window lasts 2 * scale s."),
    Setting("CRAWL_FETCH_FILE_SIZES", True,
            "Read the sizes and LFS sha256 of each changed repo's weight files (see CRAWL_FILE_SIZES_VIA)."),
    Setting("CRAWL_FILE_SIZES_VIA", "auto",
            "How weight sizes and sha256 are read: 'auto' (a tree while the api bucket has room, else a HEAD "
            "per weight file when that is cheaper), 'tree' or 'head'."),
    Setting("CRAWL_SIZES_NOW", False,
            "Read every changed model's weight sizes in this crawl even where that slows it. By default "
            "they are read only from a bucket's spare capacity (a request that does not push back the "
            "crawl's end); the rest stay pending (models.sizes_pending) for a later crawl's spare "
            "capacity, `audit`, `export --spdx` or a crawl with this set."),
    Setting("CRAWL_LICENCE_FILES", "auto",
            "When a new or changed model's licence files are read: 'now' (with its card), 'spare' (only "
            "from spare capacity: while the resolvers bucket's work ends no later than the api bucket's; "
            "the rest are left pending for the next crawl, which reads them first), 'later' (all "
            "pending), or 'auto' ('spare' in a crawl that reads its cards from a card dump, else 'now'). "
            "Until a licence file is read, no licence it could change is called (nearly) restriction-free."),
    Setting("CRAWL_BOOTSTRAP", "auto",
            "Where a first crawl reads model cards: 'auto' (from CRAWL_BOOTSTRAP_DATASET, the Hub's daily card "
            "dump, when the listing brings more than CRAWL_BOOTSTRAP_MIN_MODELS models, most of them new), "
            "'off' (every card from its repo), or a dump dataset's id (always from it). A dump's card counts "
            "only when it is as new as the listing's lastModified; the rest are fetched."),
    Setting("CRAWL_BOOTSTRAP_DATASET", "librarian-bots/model_cards_with_metadata",
            "The card dump 'auto' reads: a Hub dataset of Parquet files with the columns modelId, "
            "last_modified and card."),
    Setting("CRAWL_BOOTSTRAP_MIN_MODELS", 3000,
            "'auto' uses a dump only for a listing of more than this many models (it holds that many before it decides)."),
    Setting("CRAWL_BOOTSTRAP_CACHE", None,
            "Where the dump's Parquet files are kept between crawls; None: huggingface_hub's cache (HF_HUB_CACHE)."),
    Setting("CRAWL_WORK_DIR", None,
            "The crawl process's own folder (its job folder, removed when it ends); the dump's index goes there."),
    Setting("HUB_MAX_PAGE_BYTES", 100_000_000,
            "A listing page larger than this is not read: it is asked again in halves down to one model, "
            "and a single model past it is recorded as a failed page (too_large) while the listing goes on."),
    Setting("CRAWL_MAX_DOCUMENT_BYTES", 5_000_000, "Documents are stored up to this size, then cut."),
    Setting("CRAWL_BATCH_MODELS", 500, "Models per staged batch (loaded in one transaction)."),
    Setting("CRAWL_BATCH_SECONDS", 15.0, "Stage and load at least this often while crawling."),
    Setting("WAREHOUSE_LOAD_MEMORY_MB", 128, "Cap on DuckDB's buffer pool while a batch loads (warehouse/load.py)."),
    Setting("EXTRACT_PROCESSES", 1, "Worker processes running the extractors beside the crawl; 0: a thread "
                                    "of the crawl process (which then shares one core with the downloads)."),
    Setting("CRAWL_WORKERS", 2, "With a Redis frontier (--redis): worker processes fetching models."),
    Setting("WORKER_START_TIMEOUT", 60.0,
            "A distributed crawl's workers take no model until all have started, or until this many seconds passed."),
    Setting("RETRY_BACKOFF_BASE", 1.0, "Seconds before the first retry of a failed request; doubles."),
    Setting("RETRY_BACKOFF_MAX", 30.0, "Longest wait between two tries of one request."),
    Setting("CONCURRENT_REQUESTS", 16, "Requests in flight at once."),
    Setting("DOWNLOAD_TIMEOUT", 60, "Seconds before a request is abandoned (and retried)."),
    Setting("RETRY_TIMES", 5, "Retries of a request on 5xx, timeouts and broken connections."),
    Setting("FOLLOW_MAX_DEPTH", 4,
            "Follow links (datasets, base models, code repos, papers) this many steps from the selected "
            "models; 0 follows none. Base model chains are followed to their roots within it."),
    Setting("FOLLOW_RECHECK_DAYS", 7.0, "A link target settled less than this long ago is not asked again."),
    Setting("FOLLOW_WAVE_SIZE", 2000,
            "Link targets handed to the downloader at once; the next wave starts when they are settled."),
    Setting("FOLLOW_PAPERS", True, "Read the abstract pages of cited papers (where robots.txt allows)."),
    Setting("FOLLOW_UNREACHABLE", {},
            "Followed services (github, web) whose host could not be reached when the crawl started: "
            "{service: why}. Their links are recorded at once (code targets failed as unreachable, papers "
            "without their abstract page), for the next crawl, instead of retried one by one."),
    Setting("GITHUB_API", "https://api.github.com",
            "Base URL of GitHub's REST API (GitHub Enterprise and the emulator: <base>/api/v3)."),
    Setting("GITHUB_USE_TOKEN", True, "Send GITHUB_TOKEN (or GH_TOKEN) from the environment to the API host."),
    Setting("GITHUB_MAX_WAIT", 120.0,
            "Wait out a GitHub rate limit that resets within this many seconds; defer the rest to a later crawl."),
    Setting("GITHUB_CONCURRENCY", 4, "GitHub requests in flight at once (GitHub asks clients not to hammer it)."),
    Setting("WEB_BASE", None, "Read web pages (papers) under this base URL, as <base>/<host>/<path>: a world's web/ "
            "folder served by the emulator. None reads them from their own hosts."),
    Setting("WEB_DELAY", 1.0, "Seconds between two requests to one web host (robots.txt's Crawl-delay if longer)."),
    Setting("WEB_MAX_PAGES_PER_HOST", 40,
            "Pages read from one web host per crawl (arXiv asks 15 s between pages); the rest is deferred to the next crawl."),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}

# Scrapy's own settings that every crawl uses; AutoThrottle adapts concurrency to latency while
# the rate budget caps the request rate.
SCRAPY_BASE = {
    "BOT_NAME": "openness",
    "ROBOTSTXT_OBEY": False,  # API endpoints; robots.txt governs web pages, followed in spiders that read them
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "HTTPERROR_ALLOW_ALL": True,
    "RETRY_ENABLED": True,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 408],
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 8.0,
    "AUTOTHROTTLE_MAX_DELAY": 10.0,
    "DOWNLOAD_DELAY": 0.0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_FAIL_ON_DATALOSS": True,
    "LOG_LEVEL": "WARNING",
    # Scrapy re-parses a callback's source for this check on every response (bound methods defeat
    # its cache): a third of the crawl's CPU time on 2,000 models.
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
    # Items per response are few; 100 parallel item workers per response cost more than they give.
    "CONCURRENT_ITEMS": 8,
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    "USER_AGENT": "openness (Hugging Face model openness audit; Scrapy)",
    "DOWNLOADER_MIDDLEWARES": {
        "openness.crawler.middlewares.HubAuthMiddleware": 350,
        "openness.crawler.github_middleware.GitHubMiddleware": 355,
        "openness.crawler.middlewares.RateBudgetMiddleware": 560,
        "openness.crawler.web_middleware.WebPolitenessMiddleware": 565,
    },
    "ITEM_PIPELINES": {"openness.crawler.pipelines.StagingPipeline": 300},
    "EXTENSIONS": {"openness.crawler.progress.Progress": 500, "openness.crawler.log_filters.WarehouseGuard": 510,
                   "openness.crawler.log_filters.QuietRetries": 520},
}


def scrapy_settings(overrides: dict) -> dict:
    """Scrapy's settings for one crawl: the base, the defaults, then the caller's overrides."""
    settings = dict(SCRAPY_BASE)
    settings.update(DEFAULTS)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = settings["CONCURRENT_REQUESTS"]
    # Download slots named by service (the emulator serves every service from one host)
    settings["DOWNLOAD_SLOTS"] = {"github": {"concurrency": settings["GITHUB_CONCURRENCY"], "delay": 0.0},
                                  "web": {"concurrency": 1, "delay": 0.0}}
    return settings


def parse_budget(bucket: str, spec: str) -> tuple[int, float]:
    """("api", "2500/300") -> (2500, 300.0): a bucket's requests per window; ValueError otherwise."""
    count, _, seconds = str(spec).partition("/")
    if bucket not in ("api", "resolvers") or not count.isdigit():
        raise ValueError(f"expected api=N/SECONDS or resolvers=N/SECONDS, got {bucket}={spec!r}")
    try:
        return int(count), float(seconds or 300)
    except ValueError:
        raise ValueError(f"expected api=N/SECONDS or resolvers=N/SECONDS, got {bucket}={spec!r}") from None
