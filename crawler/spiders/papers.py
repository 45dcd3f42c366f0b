"""Following links to papers: every arXiv id a model cites is recorded. Its Hub paper page
(GET /api/papers/{id}, the api bucket) is read first: it names the paper's official code
(githubRepo) and project page, and a model's own paper's code is then followed like the card's own
code links. The abstract page is read as well when fetching papers is on and the host's robots.txt
allows it (read once per host per crawl), at the host's crawl delay or the politeness setting,
whichever is longer, and at most WEB_MAX_PAGES_PER_HOST pages a crawl (the rest waits for the
next one). The target is settled by the Hub page: read, or not on the Hub (404)."""
from __future__ import annotations

from urllib.parse import urlsplit

import scrapy

from openness.crawler import hub, web
from openness.crawler.linked import paper_row
from openness.crawler.spiders.targets import Follower, TargetFetch, json_body, response_headers
from openness.crawler.errors import reason_for_status
from openness.warehouse.links import Target


class PaperFollower(Follower):
    kind = "paper"
    service = "web"

    def __init__(self, spider):
        super().__init__(spider)
        s = spider.settings
        self.fetch_pages = s.getbool("FOLLOW_PAPERS")
        self.unreachable = s.getdict("FOLLOW_UNREACHABLE").get("web")  # why the web could not be reached
        self.web_base = s.get("WEB_BASE") or None
        self.robots: dict[str, web.Robots | None] = {}     # None: robots.txt could not be read
        self.waiting: dict[str, list[TargetFetch]] = {}
        self.max_pages = s.getint("WEB_MAX_PAGES_PER_HOST")
        self.pages: dict[str, int] = {}

    def start(self, target: Target):
        fetch = TargetFetch(target)
        paper_id = target.target.split(":", 1)[1]
        fetch.data["url"] = target.url or f"https://arxiv.org/abs/{paper_id}"
        yield self.request(fetch, hub.paper_url(self.spider.endpoint, paper_id), self.parse_hub_page, service="hub")

    def parse_hub_page(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        if response.status == 200:
            try:
                fetch.data["hub"] = hub.paper_page_fields(json_body(response))
                fetch.data["hub_page"] = "read"
            except ValueError as exc:
                self.record_failure(fetch, response, None)
                fetch.failures[-1].update(reason="bad_payload", transient=True, message=str(exc))
                fetch.data["hub_page"] = "failed"
        elif response.status == 404:
            fetch.data["hub_page"] = "not_on_hub"
        else:
            self.record_failure(fetch, response, None)
            fetch.data["hub_page"] = "failed"
        yield from self._abstract_page(fetch)
        yield from self.settle(fetch)

    def _abstract_page(self, fetch: TargetFetch):
        if not self.fetch_pages:
            fetch.data["note"] = "recorded; fetching papers is off"
            return
        if self.unreachable:  # what the Hub's page says is kept; the abstract page waits for the next crawl
            self.stats.inc_value("openness/unreachable/web")
            fetch.data.update(note=f"abstract page not read: {self.unreachable}", outcome=("failed", "unreachable", True))
            return
        host = urlsplit(fetch.data["url"]).netloc
        if host in self.robots:
            yield from self._page(fetch, host)
            return
        first = host not in self.waiting
        fetch.pending += 1  # held until robots.txt answers
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
        yield from self._release(host)

    def robots_failed(self, failure):
        host = failure.request.meta["host"]
        self.robots[host] = None
        yield from self._release(host)

    def _release(self, host: str):
        for fetch in self.waiting.pop(host, []):
            yield from self._page(fetch, host)
            yield from self.settle(fetch)

    def _page(self, fetch: TargetFetch, host: str):
        robots = self.robots[host]
        url = fetch.data["url"]
        if robots is None:
            fetch.data.update(note="robots.txt could not be read", outcome=("failed", "robots_unavailable", True))
        elif not robots.allowed(url):
            fetch.data.update(note="robots.txt disallows it", outcome=("resolved", "robots_disallowed", False))
        elif self.pages.get(host, 0) >= self.max_pages:
            # a host asking 15 s between pages would hold the crawl for hours: the rest waits for the next crawl
            note = f"deferred to the next crawl: {self.max_pages} pages of {host} per crawl"
            fetch.data.update(note=note, outcome=("deferred", "politeness", True))
        else:
            self.pages[host] = self.pages.get(host, 0) + 1
            yield self.request(fetch, web.web_url(url, self.web_base), self.parse_page, urlsplit(url).path.lstrip("/"),
                               web_host=host, crawl_delay=robots.delay(), download_maxsize=5_000_000)

    def parse_page(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        if response.status == 200 and "html" in response_headers(response).get("content-type", "html"):
            self.store_document(fetch, response, response.meta["path"], "")
            fields = web.paper_fields(fetch.documents[-1]["text"] or "")
            if fields is not None:
                fetch.data["fields"] = fields
            else:  # a page in place of the paper's (a proxy, a portal): not kept, read again next time
                fetch.documents.pop()
                fetch.data.update(note="page not read: not a paper's page (a proxy's or a portal's?)",
                                  outcome=("failed", "unexpected_html", True))
        else:
            reason = reason_for_status(response.status, response_headers(response)) if response.status != 200 else None
            fetch.data.update(note=f"page not read: {reason.reason if reason else 'not_html'}",
                              outcome=("failed", reason.reason if reason else "not_html",
                                       reason.transient if reason else False))
        yield from self.settle(fetch)

    def finish(self, fetch: TargetFetch):
        data = fetch.data
        page = data.get("hub") or {}
        fields = data.get("fields") or {}
        if "hub_page" not in data:  # the Hub page request got no answer: the errback recorded why
            data["hub_page"] = "failed"
        title, abstract = fields.get("title") or page.get("title"), fields.get("abstract") or page.get("abstract")
        note = data.get("note")
        if data["hub_page"] == "failed" and fetch.failures:
            note = f"Hub paper page not read: {fetch.failures[0]['reason']}" + (f"; {note}" if note else "")
        row = paper_row(fetch.target.target, data["url"], bool(fields), title, abstract, note=note,
                        github_repo=page.get("github_repo"), project_page=page.get("project_page"),
                        hub_page=data["hub_page"])
        yield {"kind": "paper", "row": row, "documents": fetch.documents}
        yield self._outcome(fetch)

    def _outcome(self, fetch: TargetFetch) -> dict:
        """The target row: failed when the Hub page could not be read; deferred or failed for now
        when the abstract page must wait (a later crawl reads both again); else resolved."""
        data = fetch.data
        if data["hub_page"] == "failed":
            failure = fetch.failures[0] if fetch.failures else {"reason": "unreachable", "transient": True}
            return self.target_item(fetch, "failed", reason=failure["reason"], transient=failure["transient"])
        status, reason, transient = data.get("outcome") or ("resolved", None, False)
        if "outcome" not in data and self.fetch_pages and not data.get("fields") and fetch.failures:
            # the abstract page's request got no answer (its errback recorded why): read it next time
            status, reason, transient = "failed", fetch.failures[-1]["reason"], fetch.failures[-1]["transient"]
        if status == "deferred":
            return self.target_item(fetch, "deferred", reason=reason, transient=True, message=data.get("note"))
        if status == "failed" and transient:
            return self.target_item(fetch, "failed", reason=reason, transient=True)
        hub_reason = None if data["hub_page"] == "read" else "not_on_hub"
        return self.target_item(fetch, "resolved", reason=reason if status == "resolved" and reason else hub_reason,
                                http_status=200 if data["hub_page"] == "read" else 404, resolved_id=fetch.target.target)
