"""The models spider: Hub listing pages (with expand) -> per changed model, its weights' sizes and
sha256 (a file tree or HEADs, crawler/sizes.py), README.md and licence-like files through
/resolve/ at the listed commit."""
from __future__ import annotations

import json

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from openness.crawler import hub
from openness.crawler.errors import reason_for_exception, reason_for_status
from openness.crawler.licence_files import effective_mode
from openness.crawler.listing_pages import next_page, page_limit, smaller_page
from openness.crawler.linked import target_row
from openness.crawler.payloads import read_model_payload
from openness.crawler.records import ModelFetch, failure_row, renamed_message, stats_row, utcnow
from openness.crawler.signals import flush_requested, items_decided
from openness.crawler.sizes import BucketLoad, file_row_from_head, file_row_from_tree, weight_paths
from openness.crawler.spiders.bootstrap import Bootstrap
from openness.crawler.spiders.follow import LinkFollowing
from openness.crawler.spiders.targets import response_headers
from openness.crawler.spiders.vanished import VanishedCheck
from openness.warehouse.links import Target
from openness.warehouse.runs import known_commits, stored_fetch

# Above this a document is not downloaded at all; below it, it is stored up to the setting's cap.
HARD_MAX_BYTES_FACTOR = 4
# The next listing page is requested only while fewer models than this are still being fetched, so
# memory holds about one page of models however long the listing is.
LOOKAHEAD_MODELS = 1000
LISTING_RETRIES = 3


class ModelsSpider(scrapy.Spider):
    name = "hub-models"

    def __init__(self, selection: dict, warehouse: str, **kwargs):
        super().__init__(**kwargs)
        self.selection = selection
        self.warehouse = warehouse
        self.limit = selection.get("limit")
        self.listed = 0
        self.fetching: dict[str, ModelFetch] = {}
        self.next_pages: list[tuple[str, int | None, bool]] = []  # _listing_request's arguments
        self.listing_goes_on = True

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.endpoint = s.get("HUB_ENDPOINT").rstrip("/")
        spider.fetch_sizes = s.getbool("CRAWL_FETCH_FILE_SIZES")
        spider.sizes_via = s.get("CRAWL_FILE_SIZES_VIA")
        spider.sizes_now = s.getbool("CRAWL_SIZES_NOW")
        spider.licence_files = s.get("CRAWL_LICENCE_FILES")
        effective_mode(spider.licence_files, False)  # a value it does not know fails here, not mid-crawl
        spider.bucket_load = BucketLoad()
        spider.max_document = s.getint("CRAWL_MAX_DOCUMENT_BYTES")
        spider.max_page = s.getint("HUB_MAX_PAGE_BYTES")
        spider.run_id = s.get("OPENNESS_RUN_ID")
        spider.following = LinkFollowing(spider, spider.follow_model)
        spider.vanished = VanishedCheck(spider)
        spider.bootstrap = Bootstrap.from_crawler(spider, crawler)
        crawler.signals.connect(spider.bootstrap.close, signal=signals.spider_closed)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        return spider

    def on_headers(self, headers, body_length, request, spider):
        """A listing page's Link header, kept before its body is read: a body too large to read
        still says where the listing goes on."""
        if request.meta.get("listing_page"):
            link = headers.get(b"Link") or headers.get("Link")
            request.meta["link"] = link.decode("latin-1") if isinstance(link, bytes) else link

    # -- following links, once the selected models are stored ------------------------------

    def on_idle(self):
        if self.vanished.due():  # the listing is whole and stored: who left it since last time?
            self.crawler.signals.send_catch_log(signal=flush_requested)
            requests = self.vanished.requests()
            if requests:
                for request in requests:
                    self.crawler.engine.crawl(request)
                raise DontCloseSpider
        if not self.following.enabled:
            return
        self.crawler.signals.send_catch_log(signal=flush_requested)
        requests, items = self.following.next_wave()
        if items:
            self.crawler.signals.send_catch_log(signal=items_decided, items=items)
        if not requests:
            return
        for request in requests:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def follow_model(self, target: Target) -> scrapy.Request:
        return scrapy.Request(hub.model_info_url(self.endpoint, target.target), callback=self.parse_info,
                              errback=self.listing_failed, dont_filter=True,
                              meta={"requested_id": target.target, "target": target, "depth": target.depth})

    # -- listing ---------------------------------------------------------------------------

    async def start(self):
        await self.bootstrap.open_if_due()  # a dump asked for by name: open before the first page
        for request in self.start_requests():
            yield request

    def start_requests(self):
        sel = self.selection
        if sel.get("follow_only"):  # a distributed crawl's last step: its models are stored, links remain
            return
        if sel.get("model_ids"):
            for model_id in sel["model_ids"]:
                yield scrapy.Request(hub.model_info_url(self.endpoint, model_id), callback=self.parse_info,
                                     errback=self.listing_failed, meta={"requested_id": model_id})
            return
        for author in sel.get("authors") or [None]:
            url = hub.listing_url(self.endpoint, authors=[author] if author else [], search=sel.get("search"),
                                  filters=sel.get("filters") or [], sort=sel.get("sort"), limit=self.limit)
            yield self._listing_request(url, page_limit(url))

    def _listing_request(self, url: str, full_limit: int | None, second_half: bool = False) -> scrapy.Request:
        """full_limit: the listing's own page size; second_half: the page after the first half of a
        page too large to read (listing_pages.py)."""
        return scrapy.Request(url, callback=self.parse_listing, errback=self.listing_failed,
                              meta={"listing_page": True, "full_limit": full_limit, "second_half": second_half,
                                    "download_maxsize": self.max_page})

    async def parse_listing(self, response):
        for item in self._read_listing(response):
            yield item
        payload = response.meta.pop("models", None)
        if payload is None:
            return
        link = _text_header(response, "Link")
        pages = self.bootstrap.hold(payload, response.url, more=hub.next_page_url(link) is not None)
        await self.bootstrap.open_if_due()
        for models, url in pages:
            for item in self._handle_models(models, url):
                yield item
        for request in self._go_on_after(response.request, link, read=True):
            yield request

    def _read_listing(self, response):
        """A listing page's failure, or its models in response.meta['models']."""
        self.bucket_load.spend("api", self._budget())
        payload, failure = self._json_or_failure(response)
        if failure and failure["reason"] == "bad_payload" and response.meta.get("page_retries", 0) < LISTING_RETRIES:
            # a proxy's HTML page or a cut JSON body: the page itself is fine to ask again
            retry = response.request.replace(dont_filter=True)
            retry.meta["page_retries"] = response.meta.get("page_retries", 0) + 1
            yield retry
            return
        if failure:
            self.crawler.stats.inc_value("openness/listing_failures")
            yield {"kind": "failure", "row": failure}
            return
        if not isinstance(payload, list):
            self.crawler.stats.inc_value("openness/listing_failures")
            yield self._failure_item(response.url, 200, "bad_payload", True, "listing is not a JSON list")
            return
        if self.limit is not None:
            payload = payload[: max(0, self.limit - self.listed)]
        self.listed += len(payload)
        response.meta["models"] = payload

    def _go_on_after(self, request, link_header: str | None, read: bool):
        full_limit = request.meta.get("full_limit")
        next_url, second_half = next_page(hub.next_page_url(link_header), request.url, full_limit,
                                          halved_and_read=not read or request.meta.get("second_half", False))
        self.listing_goes_on = bool(next_url and (self.limit is None or self.listed < self.limit))
        if self.listing_goes_on:
            self.next_pages.append((next_url, full_limit, second_half))
        yield from self._release_pages()

    def _release_pages(self):
        while self.next_pages and len(self.fetching) < LOOKAHEAD_MODELS:
            yield self._listing_request(*self.next_pages.pop(0))

    def parse_info(self, response):
        self.bucket_load.spend("api", self._budget())  # a model crawled by id costs an api request
        payload, failure = self._json_or_failure(response, model_id=response.meta["requested_id"])
        target = response.meta.get("target")
        if failure and target:  # a base model that cannot be read: its link target says why
            yield self._target_item(target, "failed", reason=failure["reason"], transient=failure["transient"],
                                    http_status=failure["status"], message=failure["message"])
            return
        if failure:
            yield {"kind": "failure", "row": failure}
            return
        requested = response.meta["requested_id"]
        renamed = isinstance(payload, dict) and isinstance(payload.get("id"), str) and payload["id"] != requested
        if renamed:
            yield self._failure_item(response.meta.get("redirect_urls", [response.url])[0], 307, "renamed",
                                     False, renamed_message(requested, payload["id"]), model_id=requested)
        if target:
            yield self._target_item(target, "resolved", reason="renamed" if renamed else None, http_status=200,
                                    resolved_id=payload.get("id") if isinstance(payload, dict) else None)
        yield from self._handle_models([payload], response.url, response.meta.get("depth", 0))

    def listing_failed(self, failure):
        reason = reason_for_exception(failure.value)
        request = failure.request
        model_id = request.meta.get("requested_id")
        target = request.meta.get("target")
        if target:
            yield self._target_item(target, "failed", reason=reason.reason, transient=reason.transient,
                                    message=_describe(failure.value))
            return
        if reason.reason == "too_large" and request.meta.get("listing_page"):
            half = smaller_page(request.url)
            if half:  # the models beside the too-large one are read from smaller pages
                self.crawler.stats.inc_value("openness/listing_pages_halved")
                yield self._listing_request(half, request.meta.get("full_limit"))
                return
        self.crawler.stats.inc_value("openness/listing_failures")
        yield self._failure_item(request.url, None, reason.reason, reason.transient,
                                 _describe(failure.value), model_id=model_id)
        if request.meta.get("listing_page"):  # a page that cannot be read: the listing goes on past it
            yield from self._go_on_after(request, request.meta.get("link"), read=False)
            if not self.listing_goes_on:  # pages held for the card dump's decision are handled now
                for models, url in self.bootstrap.release():
                    yield from self._handle_models(models, url)

    def _target_item(self, target: Target, status: str, **details) -> dict:
        self.crawler.stats.inc_value(f"openness/targets_{status}")
        return {"kind": "target", "row": target_row(target.kind, target.target, status, target.depth, **details)}

    def _json_or_failure(self, response, model_id=None):
        if response.status != 200:
            headers = response_headers(response)
            reason = reason_for_status(response.status, headers)
            return None, failure_row(model_id, None, response.url, None, response.status, reason.reason,
                                     reason.transient, headers.get("x-error-code"), headers.get("x-error-message"))
        try:
            return json.loads(response.body), None
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = response.body[:120].decode("utf-8", "replace")
            return None, failure_row(model_id, None, response.url, None, response.status, "bad_payload",
                                     True, None, f"not JSON ({exc}); body starts {snippet!r}")

    def _handle_models(self, payloads: list, url: str, depth: int = 0):
        ids = [p["id"] for p in payloads if isinstance(p, dict) and isinstance(p.get("id"), str)]
        known = known_commits(self.warehouse, ids)
        cards = self.bootstrap.cards(payloads, known)
        for payload in payloads:
            # payloads are untrusted: one bad entry is recorded and never stops the page
            try:
                yield from self._handle_model(payload, known, url, depth, cards)
            except Exception as exc:
                yield self._failure_item(url, 200, "bad_payload", False, _describe(exc),
                                         model_id=_id_and_sha(payload)[0])

    def _handle_model(self, payload, known: dict, url: str, depth: int, cards: dict):
        stats = self.crawler.stats
        counter = "openness/models" if depth == 0 else "openness/base_models"  # selected, or reached by links
        model_id, sha = _id_and_sha(payload)
        if model_id is None:
            # a listed entry that names no model: the listing was not read whole (see VanishedCheck)
            stats.inc_value("openness/listing_entries_unreadable")
            yield self._failure_item(url, 200, "bad_payload", False, "a listed entry without an id")
            return
        problem = hub.id_problem(model_id)
        if problem:
            yield self._failure_item(url, 200, "invalid_id", False, problem, model_id=model_id[:300])
            return
        prior = known.get(model_id, {})
        stored = prior.get(sha)
        unchanged = sha is not None and stored is not None and stored.complete and not self.selection.get("full")
        licences_due = unchanged and self._licence_files_due(stored.licence_files_pending)
        revisit = licences_due or (unchanged and self._sizes_due(payload, stored.sizes_pending))
        try:
            # a stored complete commit parsed fine when it was fetched: a nightly crawl of an
            # unchanged Hub skips huggingface_hub's parsing of every entry
            info = None
            if not unchanged or revisit:
                info, payload, notes = read_model_payload(payload)
                if notes and not revisit:  # odd values coerced or dropped: recorded, and the model is stored
                    yield self._failure_item(url, 200, "bad_field", False, "; ".join(notes), model_id=model_id)
            if info is not None and not info.sha:
                raise ValueError("no sha in the payload")
        except Exception as exc:
            yield self._failure_item(url, 200, "bad_payload", False, _describe(exc), model_id=model_id)
            return
        stats.inc_value(f"{counter}_seen")
        yield {"kind": "stats", "row": stats_row(payload, depth)}
        if unchanged:
            stats.inc_value(f"{counter}_unchanged")
        if unchanged and not revisit:
            return
        if licences_due:  # an unchanged commit whose licence files were left for later: they are read
            stats.inc_value("openness/licence_files_revisited")
            state = "licences"
        elif revisit:  # an unchanged commit whose weight sizes were left for later: only they are read
            stats.inc_value("openness/sizes_revisited")
            state = "sizes"
        else:
            state = "new" if not prior else ("incomplete" if info.sha in prior else "changed")
            if state == "incomplete" and stored.complete:  # --full: a complete commit, read again whole
                state = "again"
            stats.inc_value(f"{counter}_{'retried' if state == 'incomplete' else state}")
        fetch = ModelFetch(info, payload, state, depth=depth)
        if state in ("incomplete", "sizes", "licences"):
            fetch.stored_documents, fetch.stored_files = stored_fetch(self.warehouse, info.id, info.sha)
        self.bootstrap.use(fetch, cards.get(info.id), self.max_document)
        yield from self.dispatch(fetch)

    def dispatch(self, fetch: ModelFetch):
        """Fetch a new or changed model's files here (a distributed lister hands it on instead)."""
        yield from self._fetch_model(fetch)

    # -- one model's files -----------------------------------------------------------------

    def _fetch_model(self, fetch: ModelFetch):
        info = fetch.info
        if info.id in self.fetching:
            return
        paths = [s.rfilename for s in info.siblings or []]
        wanted = (["README.md"] if "README.md" in paths else []) + hub.licence_like_paths(
            paths, fetch.payload.get("cardData"))
        stored = {d["path"]: d for d in fetch.stored_documents}
        if "README.md" in stored:
            fetch.card = hub.card_status(stored["README.md"]["text"])
        read = set(stored) | {d["path"] for d in fetch.documents}  # fetched before, or read from a card dump
        fetch.licence_files = [p for p in wanted if p != "README.md"]
        documents = list(dict.fromkeys(p for p in wanted if p not in read))
        if fetch.state == "sizes":  # what it lacks failed for good (a gated licence, a 404), or is licence
            documents = []          # files this crawl leaves pending too (repo_files.unread keeps them)
        documents = self._defer_licence_files(fetch, documents)
        self.bucket_load.spend("resolvers", self._budget(), len(documents))
        requests = self._size_requests(fetch, paths)
        for path in documents:
            request = self._model_request(fetch, hub.file_url(self.endpoint, info.id, info.sha, path),
                                          self.parse_document, path)
            request.meta["download_maxsize"] = self.max_document * HARD_MAX_BYTES_FACTOR
            requests.append(request)
        fetch.pending = len(requests)
        if not requests:
            yield fetch.item()
            return
        self.fetching[info.id] = fetch
        yield from requests

    def _licence_mode(self) -> str:
        return effective_mode(self.licence_files, self.bootstrap.state == "open")

    def _defer_licence_files(self, fetch: ModelFetch, documents: list[str]) -> list[str]:
        """The documents to fetch now: a new or changed model's licence files are left pending when
        they do not fit in spare capacity (crawler/licence_files.py); a revisit reads its own."""
        licences = [p for p in documents if p != "README.md"]
        if fetch.state not in ("new", "changed") or not licences or \
                self.bucket_load.licence_files_now(self._licence_mode(), len(licences), self._budget()):
            return documents
        fetch.deferred = licences
        self.crawler.stats.inc_value("openness/licence_files_deferred", len(licences))
        return [p for p in documents if p not in set(licences)]

    def _licence_files_due(self, pending: int) -> bool:
        """Whether an unchanged commit's pending licence files are read in this crawl: always,
        unless this crawl defers licence files too (then from spare capacity only)."""
        return bool(pending) and self.bucket_load.licence_files_now(self._licence_mode(), pending, self._budget())

    def _size_requests(self, fetch: ModelFetch, paths: list[str]) -> list[scrapy.Request]:
        """A tree, or a HEAD per weight file not stored yet, or nothing: none to read, or left
        pending for later (crawler/sizes.py)."""
        info = fetch.info
        weights = weight_paths(paths)
        missing = [p for p in weights if (fetch.stored_files.get(p) or {}).get("size") is None]
        if not self.fetch_sizes or info.disabled:
            fetch.sizes_pending = 0 if info.disabled else len(missing)  # a disabled repo serves no file
            return []
        how = self.bucket_load.choose(len(missing), 0, bool(info.gated), self.sizes_via,
                                      self._budget(), self.sizes_now,
                                      first_window=fetch.state not in ("sizes", "licences"))
        self.crawler.stats.inc_value(f"openness/sizes_by/{how or 'none'}")
        if how == "pending":
            fetch.sizes_pending = len(missing)
            return []
        if how == "tree":
            tree = self._model_request(fetch, hub.tree_url(self.endpoint, info.id, info.sha), self.parse_tree, None)
            tree.meta["weights"] = weights  # the tree's rows are these files' (every page of it)
            return [tree]
        return [scrapy.Request(hub.file_url(self.endpoint, info.id, info.sha, path), method="HEAD",
                               callback=self.parse_head, errback=self.fetch_failed, dont_filter=True,
                               meta={"model_id": info.id, "path": path, "dont_redirect": True})
                for path in missing] if how == "head" else []

    def _sizes_due(self, payload: dict, pending: int) -> bool:
        """Whether an unchanged commit's pending weight sizes are read in this crawl: from spare
        capacity, or all with CRAWL_SIZES_NOW."""
        if not (self.fetch_sizes and pending) or payload.get("disabled"):
            return False
        how = self.bucket_load.choose(pending, 0, bool(payload.get("gated")), self.sizes_via,
                                      self._budget(), self.sizes_now, commit=False,
                                      first_window=False)
        return how in ("tree", "head")

    def _budget(self):
        """The rate middleware, which knows each bucket's rate and window (None: no limit)."""
        return getattr(self.crawler, "hub_budget", None)

    def parse_head(self, response):
        fetch = self.fetching[response.meta["model_id"]]
        path = response.meta["path"]
        headers = response_headers(response)
        row = file_row_from_head(fetch.info.id, fetch.info.sha, path, response.status, headers)
        if hub.html_in_place_of_file(headers):  # a proxy's page: its length is not the file's size
            fetch.add_failure(response.url, path, response.status, "unexpected_html", True, None, hub.HTML_IN_PLACE)
        elif row is None:
            self._record_status_failure(fetch, response, path)
        else:
            fetch.files[path] = row
        yield from self._settle(fetch)

    def _model_request(self, fetch: ModelFetch, url: str, callback, path: str | None) -> scrapy.Request:
        # Unique by construction (a commit's path, once per fetch); the dupe filter would keep a
        # fingerprint of each for the whole crawl, ~100 MB a million files.
        return scrapy.Request(url, callback=callback, errback=self.fetch_failed, dont_filter=True,
                              meta={"model_id": fetch.info.id, "path": path})

    def parse_tree(self, response):
        fetch = self.fetching[response.meta["model_id"]]
        entries = self._tree_entries(response, fetch)
        weights = set(response.meta["weights"])
        for entry in entries:
            row = file_row_from_tree(fetch.info.id, fetch.info.sha, entry, weights)
            if row is not None:
                fetch.files[row["path"]] = row
        next_url = hub.next_page_url(_text_header(response, "Link")) if entries else None
        if next_url:
            fetch.pending += 1
            page = self._model_request(fetch, next_url, self.parse_tree, None)
            page.meta["weights"] = response.meta["weights"]
            yield page
        yield from self._settle(fetch)

    def _tree_entries(self, response, fetch: ModelFetch) -> list:
        if response.status != 200:
            self._record_status_failure(fetch, response)
            return []
        try:
            entries = json.loads(response.body)
            if not isinstance(entries, list):
                raise ValueError("tree is not a JSON list")
            return entries
        except ValueError as exc:
            fetch.add_failure(response.url, None, response.status, "bad_payload", True, None, _describe(exc))
            return []

    def parse_document(self, response):
        fetch = self.fetching[response.meta["model_id"]]
        path = response.meta["path"]
        headers = response_headers(response)
        if response.status != 200:
            self._record_status_failure(fetch, response, path)
        elif hub.html_in_place_of_file(headers):
            fetch.add_failure(response.url, path, 200, "unexpected_html", True, None, hub.HTML_IN_PLACE)
        else:
            self._store_document(fetch, response, path)
        yield from self._settle(fetch)

    def _store_document(self, fetch: ModelFetch, response, path: str) -> None:
        body = response.body
        text, encoding, truncated = hub.decode_document(body, self.max_document)
        fetch.documents.append({
            "model_id": fetch.info.id, "sha": fetch.info.sha, "path": path, "url": response.url,
            "http_status": response.status, "sha256": hub.sha256_hex(body), "size_bytes": len(body),
            "encoding": encoding, "truncated": truncated, "text": text, "fetched_at": utcnow()})
        self.crawler.stats.inc_value("openness/files_fetched")
        if path == "README.md":
            fetch.card = hub.card_status(text)

    def _record_status_failure(self, fetch: ModelFetch, response, path: str | None = None) -> None:
        headers = response_headers(response)
        reason = reason_for_status(response.status, headers)
        fetch.add_failure(response.url, path, response.status, reason.reason, reason.transient,
                          headers.get("x-error-code"), headers.get("x-error-message"))

    def fetch_failed(self, failure):
        request = failure.request
        fetch = self.fetching.get(request.meta.get("model_id"))
        if fetch is None:
            return
        reason = reason_for_exception(failure.value)
        fetch.add_failure(request.url, request.meta.get("path"), None, reason.reason, reason.transient,
                          None, _describe(failure.value))
        yield from self._settle(fetch)

    def _settle(self, fetch: ModelFetch):
        fetch.pending -= 1
        if fetch.pending <= 0:
            self.fetching.pop(fetch.info.id, None)
            yield fetch.item()
            yield from self._release_pages()

    def _failure_item(self, url, status, reason, transient, message, model_id=None) -> dict:
        return {"kind": "failure", "row": failure_row(model_id, None, url, None, status, reason, transient,
                                                      None, message)}


def _id_and_sha(payload) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    model_id, sha = payload.get("id"), payload.get("sha")
    return (model_id if isinstance(model_id, str) else None), (sha if isinstance(sha, str) else None)


def _text_header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _describe(exc) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
