"""Following links to papers: every arXiv id a model cites is recorded; its abstract page is read
when fetching papers is on and the host's robots.txt allows it (read once per host per crawl),
at the host's crawl delay or the politeness setting, whichever is longer, and at most
WEB_MAX_PAGES_PER_HOST pages a crawl (the rest is deferred to the next one)."""
from __future__ import annotations

from urllib.parse import urlsplit

import scrapy

from crawler import web
from crawler.linked import paper_row
from crawler.spiders.targets import Follower, TargetFetch, response_headers
from warehouse.links import Target


class PaperFollower(Follower):
    kind = "paper"
    service = "web"

    def __init__(self, spider):
        super().__init__(spider)
        s = spider.settings
        self.fetch_pages = s.getbool("FOLLOW_PAPERS")
        self.web_base = s.get("WEB_BASE") or None
        self.robots: dict[str, web.Robots | None] = {}     # None: robots.txt could not be read
        self.waiting: dict[str, list[TargetFetch]] = {}
        self.max_pages = s.getint("WEB_MAX_PAGES_PER_HOST")
        self.pages: dict[str, int] = {}

    def start(self, target: Target):
        fetch = TargetFetch(target)
        paper_id = target.target.split(":", 1)[1]
        fetch.data["url"] = target.url or f"https://arxiv.org/abs/{paper_id}"
        if not self.fetch_pages:
            yield {"kind": "paper", "row": paper_row(target.target, fetch.data["url"], False,
                                                    note="recorded; fetching papers is off"), "documents": []}
            yield self.target_item(fetch, "resolved", reason="recorded")
            return
        host = urlsplit(fetch.data["url"]).netloc
        if host in self.robots:
            yield from self._page(fetch, host)
            return
        first = host not in self.waiting
        self.waiting.setdefault(host, []).append(fetch)
        if first:
            url = web.web_url(web.robots_url(fetch.data["url"]), self.web_base)
            yield scrapy.Request(url, callback=self.parse_robots, errback=self.robots_failed, dont_filter=True,
                                 meta={"service": "web", "web_host": host, "host": host, "download_slot": "web",
                                       "download_maxsize": 500_000})

    def parse_robots(self, response):
        host = response.meta["host"]
        if response.status == 200:
            self.robots[host] = web.Robots(response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace"))
        elif 400 <= response.status < 500:
            self.robots[host] = web.Robots(None)  # no robots.txt: everything is allowed
        else:
            self.robots[host] = None
        for fetch in self.waiting.pop(host, []):
            yield from self._page(fetch, host)

    def robots_failed(self, failure):
        host = failure.request.meta["host"]
        self.robots[host] = None
        for fetch in self.waiting.pop(host, []):
            yield from self._page(fetch, host)

    def _page(self, fetch: TargetFetch, host: str):
        robots = self.robots[host]
        url = fetch.data["url"]
        if robots is None:
            yield {"kind": "paper", "row": paper_row(fetch.target.target, url, False, note="robots.txt could not be read"),
                   "documents": []}
            yield self.target_item(fetch, "failed", reason="robots_unavailable", transient=True)
        elif not robots.allowed(url):
            yield {"kind": "paper", "row": paper_row(fetch.target.target, url, False, note="robots.txt disallows it"),
                   "documents": []}
            yield self.target_item(fetch, "resolved", reason="robots_disallowed")
        elif self.pages.get(host, 0) >= self.max_pages:
            # a host asking 15 s between pages would hold the crawl for hours: the rest waits for the next crawl
            note = f"deferred to the next crawl: {self.max_pages} pages of {host} per crawl"
            yield {"kind": "paper", "row": paper_row(fetch.target.target, url, False, note=note), "documents": []}
            yield self.target_item(fetch, "deferred", reason="politeness", transient=True, message=note)
        else:
            self.pages[host] = self.pages.get(host, 0) + 1
            yield self.request(fetch, web.web_url(url, self.web_base), self.parse_page, urlsplit(url).path.lstrip("/"),
                               web_host=host, crawl_delay=robots.delay(), download_maxsize=5_000_000)

    def parse_page(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        if response.status == 200 and "html" in response_headers(response).get("content-type", "html"):
            self.store_document(fetch, response, response.meta["path"], "")
            fetch.data["fields"] = web.paper_fields(fetch.documents[-1]["text"] or "")
        else:
            fetch.outcome = self.fail_on_status(fetch, response) if response.status != 200 else self.target_item(
                fetch, "failed", reason="not_html", http_status=200)
        yield from self.settle(fetch)

    def finish(self, fetch: TargetFetch):
        if "fields" not in fetch.data:  # the page request failed: the errback recorded why
            failure = fetch.failures[-1] if fetch.failures else {"reason": "unreachable", "transient": True}
            yield {"kind": "paper", "row": paper_row(fetch.target.target, fetch.data["url"], False,
                                                    note=f"page not read: {failure['reason']}"), "documents": []}
            yield self.target_item(fetch, "failed", reason=failure["reason"], transient=failure["transient"])
            return
        fields = fetch.data["fields"]
        yield {"kind": "paper", "row": paper_row(fetch.target.target, fetch.data["url"], True, fields["title"],
                                                fields["abstract"]), "documents": fetch.documents}
        yield self.target_item(fetch, "resolved", http_status=200, resolved_id=fetch.target.target)
