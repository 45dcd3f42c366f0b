"""When a new or changed model's licence files are read: with its card, or later.

A first crawl that reads its cards from the Hub's card dump (crawler/spiders/bootstrap.py) needs a
resolver request only for what the dump cannot give: cards older there than the listing, and
licence files. Licence files are then what holds the crawl back, so such a crawl reads them only
from spare capacity: while the resolvers bucket's work, theirs included, ends no later than the
api bucket's (the listing's own pace) or within its first window. The rest are left pending
(repo_files.unread = 'pending', models.licence_files_pending) and the next crawl reads them first.

Until a licence file is read, the model's licence is not known whole: the licence extractor says
so (licence.unread), and the taxonomy calls no licence it could change (nearly) restriction-free.
A deferral trades a later verdict for a sooner first crawl, never a wrong one.

CRAWL_LICENCE_FILES: 'now' (with the card, as a per-model crawl does), 'spare' (from spare
capacity, the rest pending), 'later' (all pending: the fastest first pass), or 'auto': 'spare' in
a crawl that reads cards from a dump, else 'now'.
"""
from __future__ import annotations

MODES = ("auto", "now", "spare", "later")
PENDING = "pending"  # repo_files.unread of a licence file left for a later crawl


def effective_mode(setting: str, cards_from_dump: bool) -> str:
    """The mode a crawl uses: the setting's, 'auto' resolved by whether cards come from a dump."""
    mode = (setting or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"CRAWL_LICENCE_FILES must be one of {', '.join(MODES)}, got {setting!r}")
    if mode == "auto":
        return "spare" if cards_from_dump else "now"
    return mode


def read_now(mode: str, files: int, committed: dict[str, float], cost: dict[str, float],
             windows: dict[str, float]) -> bool:
    """Whether a model's `files` licence files are read in this crawl, given the work committed to
    each bucket so far and each request's cost, in seconds of the bucket's quota (0: no limit), and
    each bucket's window (its first window's quota is there at once). 'spare' reads them while the
    resolvers bucket's end, with them, stays within the api bucket's end or its own first window."""
    if files == 0 or mode == "now":
        return True
    if mode == "later":
        return False
    if not cost.get("resolvers"):
        return True  # no limit: no capacity to spare, nothing to wait for
    resolvers_end = committed["resolvers"] + cost["resolvers"] * files - windows.get("resolvers", 0.0)
    api_end = committed["api"] - windows.get("api", 0.0)
    return resolvers_end <= max(api_end, 0.0)
