"""A first crawl's cards from the Hub's daily card dump (crawler/card_dump.py), for the models spider.

CRAWL_BOOTSTRAP says whether to use one: a dataset id (always), 'off', or 'auto': a crawl whose
listing brings more than CRAWL_BOOTSTRAP_MIN_MODELS models, most of them not in the warehouse yet,
opens the default dump. To decide, 'auto' holds the listing's first pages (at most that many
models) until it knows; nothing is fetched meanwhile. A dump that cannot be read is said in one
line and the crawl reads every card from the repos, as without one."""
from __future__ import annotations

import logging

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from openness.crawler import hub
from openness.crawler.card_dump import CardDump, DumpCard, DumpUnreadable, document_row, fresh_card, open_dump
from openness.crawler.records import ModelFetch
from openness.warehouse.runs import known_commits

logger = logging.getLogger(__name__)

# A dump holds cards as text: a card whose bytes were not UTF-8 reaches it with this character in
# their place, and is read from the repo instead, where its bytes and their encoding are kept.
REPLACEMENT = "\ufffd"
# 'auto' opens a dump only for a first crawl: when fewer than this share of the held models are stored.
AUTO_NEW_SHARE = 0.5


class Bootstrap:
    def __init__(self, spider, mode: str, dataset: str, min_models: int, cache_dir: str | None,
                 work_dir: str | None, use_token: bool = True):
        self.spider, self.use_token = spider, use_token
        self.mode = (mode or "off").strip()
        self.dataset = dataset if self.mode in ("auto", "on") else self.mode
        self.min_models, self.cache_dir, self.work_dir = min_models, cache_dir, work_dir
        self.dump: CardDump | None = None
        self.held: list[tuple[list, str]] = []
        # off, undecided (auto, holding pages), opening (asked, not open yet), open, failed
        self.state = "undecided" if self.mode == "auto" else ("off" if self.mode == "off" else "opening")
        if self.state != "off" and not work_dir:
            self.state = "off"  # a crawl without a job folder (the distributed one) reads cards per model
        if self.state == "undecided" and not self._may_be_large(spider.selection, min_models):
            self.state = "off"

    @classmethod
    def from_crawler(cls, spider, crawler) -> "Bootstrap":
        s = crawler.settings
        return cls(spider, s.get("CRAWL_BOOTSTRAP"), s.get("CRAWL_BOOTSTRAP_DATASET"),
                   s.getint("CRAWL_BOOTSTRAP_MIN_MODELS"), s.get("CRAWL_BOOTSTRAP_CACHE"), s.get("CRAWL_WORK_DIR"),
                   s.getbool("HUB_USE_TOKEN", True))

    @property
    def stats(self):
        return self.spider.crawler.stats

    @staticmethod
    def _may_be_large(selection: dict, min_models: int) -> bool:
        """'auto' judges one listing's length: ids asked for, several authors' listings or a limit
        below the threshold are not a large first crawl."""
        limit = selection.get("limit")
        return not selection.get("model_ids") and len(selection.get("authors") or []) <= 1 \
            and not selection.get("follow_only") and (limit is None or limit > min_models)

    # -- deciding and opening --------------------------------------------------------------

    def hold(self, payload: list, url: str, more: bool) -> list[tuple[list, str]]:
        """The listing pages to handle now: this one, or (auto, undecided) none until the held
        pages say whether this is a large first crawl, then all of them."""
        if self.state != "undecided":
            return [(payload, url)]
        self.held.append((payload, url))
        count = sum(len(p) for p, _ in self.held)
        if count < self.min_models and more:
            return []
        pages, self.held = self.held, []
        self.state = "opening" if count >= self.min_models and self._mostly_new(pages) else "off"
        if self.state == "off":  # said only with -v: a nightly crawl or a small one is the usual case
            logger.info("no card dump: %d models listed%s", count, f" (fewer than {self.min_models})"
                        if count < self.min_models else ", most of them stored already")
        return pages

    def release(self) -> list[tuple[list, str]]:
        """The held pages of a listing that ended before it was decided (its last page failed):
        handled without a dump."""
        pages, self.held = self.held, []
        if self.state == "undecided":
            self.state = "off"
        return pages

    def _mostly_new(self, pages) -> bool:
        ids = [m["id"] for p, _ in pages for m in p if isinstance(m, dict) and isinstance(m.get("id"), str)]
        return len(known_commits(self.spider.warehouse, ids)) < AUTO_NEW_SHARE * max(1, len(ids))

    async def open_if_due(self) -> None:
        """Open the dump when it is asked for and not open yet (in a thread: downloading it takes a while)."""
        if self.state != "opening":
            return
        self.stats.set_value("openness/bootstrap_reading", 1)  # the progress bar says so meanwhile
        try:
            self.dump = await maybe_deferred_to_future(deferToThread(
                open_dump, self.dataset, self.spider.endpoint, self._token(), self.work_dir, self.cache_dir))
        except DumpUnreadable as exc:
            self.state = "failed"
            logger.error("%s; every card is read from its repo", exc)
            self.stats.set_value("openness/bootstrap", f"not used: {exc}")
            return
        finally:
            self.stats.set_value("openness/bootstrap_reading", 0)
        self.state = "open"
        budget = getattr(self.spider.crawler, "hub_budget", None)
        for bucket, count in self.dump.requests.items():
            if budget is not None:
                budget.count_outside(bucket, count)
            else:
                self.stats.inc_value(f"openness/requests/{bucket}", count)
        chosen = f" (a first crawl of more than {self.min_models:,} models)" if self.mode == "auto" else ""
        self.stats.set_value("openness/bootstrap", f"cards from {self.dump.source.describe()}{chosen}")

    def _token(self):
        """The Hub token the crawl sends to the Hub (HubAuthMiddleware reads it the same way), or
        False: send none (huggingface_hub would otherwise look for one itself)."""
        if not self.use_token:
            return False
        from huggingface_hub import get_token
        return get_token() or False

    # -- using it --------------------------------------------------------------------------

    def cards(self, payloads: list, known: dict) -> dict[str, DumpCard]:
        """The dump's rows for a page's models that are not stored whole yet."""
        if self.state != "open":
            return {}
        ids = []
        for payload in payloads:
            model_id, sha = (payload.get("id"), payload.get("sha")) if isinstance(payload, dict) else (None, None)
            stored = known.get(model_id, {}).get(sha) if isinstance(model_id, str) else None
            if isinstance(model_id, str) and not (stored and stored.complete):
                ids.append(model_id)
        return self.dump.cards(ids)

    def use(self, fetch: ModelFetch, card: DumpCard | None, max_bytes: int) -> None:
        """Give a new or changed model its README from the dump when the dump's row is as new as the
        listing's lastModified; otherwise the README is fetched (and counted as stale or missing)."""
        if self.state != "open" or fetch.state not in ("new", "changed", "incomplete"):
            return
        info = fetch.info
        if "README.md" not in {s.rfilename for s in info.siblings or []}:
            return
        if any(d["path"] == "README.md" for d in fetch.stored_documents):
            return
        if card is None or REPLACEMENT in card.text:  # not there, or bytes the dump could not decode
            self.stats.inc_value("openness/dump_cards_missing")
            return
        if not fresh_card(card, info.last_modified):
            self.stats.inc_value("openness/dump_cards_stale")
            return
        row = document_row(info.id, info.sha, card, self.dump.source, max_bytes)
        fetch.documents.append(row)
        fetch.card = hub.card_status(row["text"])
        self.stats.inc_value("openness/dump_cards_read")

    def close(self) -> None:
        if self.dump is not None:
            self.dump.close()
