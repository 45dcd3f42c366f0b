"""Where a changed model's weight sizes and LFS sha256 come from, spending each Hub bucket where it
is cheapest, and only from spare capacity unless asked.

Two ways: the file tree, one request of the api bucket (the Hub's scarcest) for any number of
files; or a HEAD of each weight file through /resolve/, in the resolvers bucket (six times the api
bucket's quota), whose redirect carries X-Linked-Size and X-Linked-ETag (the sha256). Only weight
files matter: they are the sizes the audit reads (weights' total size, the SPDX export's files). A
model without weight files needs neither. A gated model's weights answer HEAD with 401, so it
takes a tree.

The crawl keeps the work it has committed to each bucket, in seconds of that bucket's quota. A
first crawl is bound by the resolvers bucket (README.md and licence files): the api bucket idles
beside it. By default a model's sizes are read only when a way fits in a bucket's idle capacity,
i.e. does not push back the crawl's end (size_source); otherwise they are left pending
(models.sizes_pending) for a later crawl's spare capacity, for `audit` and `export --spdx`, which
read them on demand, or for a crawl with CRAWL_SIZES_NOW. With it, every model takes the way that
ends both buckets sooner, so the two finish together instead of one idling while the other decides
the pace.
"""
from __future__ import annotations

from openness.crawler.licence_files import read_now
from openness.crawler.records import as_int, as_str
from openness.extractors.weights import weight_files

REDIRECTS = (301, 302, 303, 307, 308)


def weight_paths(paths: list[str]) -> list[str]:
    """The files whose size and sha256 the audit reads (an index of shards is not one)."""
    return [p for found in weight_files(paths).values() for p in found if not p.endswith(".index.json")]


class BucketLoad:
    """The work committed to the api and resolvers buckets so far, in seconds of each one's quota."""

    def __init__(self):
        self.committed = {"api": 0.0, "resolvers": 0.0}

    def spend(self, bucket: str, budget, requests: int = 1) -> None:
        """Count requests the crawl makes anyway (a listing page; a model_info request per model
        crawled by id)."""
        self.committed[bucket] += requests * _costs(budget)[bucket]

    def choose(self, weights: int, documents: int, gated: bool, via: str, budget=None,
               now: bool = False, commit: bool = True, first_window: bool = True) -> str | None:
        """'tree', 'head', 'pending' (not in this crawl) or None (nothing to ask) for a model with
        these many weight files and documents to fetch; via: 'auto', or 'tree'/'head' to force one;
        now: read the sizes even where that pushes back the crawl's end. budget: what tells each
        bucket's rate and window (none: no limit). With commit, the choice's cost is counted.
        first_window: a tree may use the api bucket's first window (size_source)."""
        cost = _costs(budget)
        windows = {b: budget.window(b) if budget and cost[b] else 0.0 for b in cost}
        how = size_source(weights, gated, via, documents, self.committed, cost, windows, now, first_window)
        if commit:
            self.committed["api"] += cost["api"] if how == "tree" else 0.0
            self.committed["resolvers"] += cost["resolvers"] * (documents + (weights if how == "head" else 0))
        return how

    def licence_files_now(self, mode: str, files: int, budget=None) -> bool:
        """Whether a model's licence files are read in this crawl (crawler/licence_files.py). Not
        counted here: the caller spends what it fetches."""
        cost = _costs(budget)
        windows = {b: budget.window(b) if budget and cost[b] else 0.0 for b in cost}
        return read_now(mode, files, self.committed, cost, windows)


def _costs(budget) -> dict[str, float]:
    """Seconds of each bucket's quota one request takes (0 without a limit)."""
    return {b: 1 / budget.rate(b) if budget else 0.0 for b in ("api", "resolvers")}


def size_source(weights: int, gated: bool, via: str, documents: int, committed: dict[str, float],
                cost: dict[str, float], windows: dict[str, float] | None = None, now: bool = False,
                first_window: bool = True) -> str | None:
    """How to read a model's weight sizes, given the work each bucket has committed and each
    request's cost (seconds of the bucket's quota) and window (a window's quota is there at once,
    so a bucket's work ends `committed - window` seconds in).

    With now: the way that ends both buckets sooner. Otherwise only from spare capacity, knowing
    that what a crawl does next is mostly documents, in the resolvers bucket: a tree while the api
    bucket's end stays behind the resolvers' (within its first window too, unless not
    first_window: listing pages are that window's), HEADs only while the resolvers stay behind the
    api bucket's end without their first window, which the documents to come will need; else
    'pending'."""
    if weights == 0:
        return None
    windows = windows or {"api": 0.0, "resolvers": 0.0}
    api = committed["api"] - windows["api"]  # seconds past each bucket's first window
    resolvers = committed["resolvers"] + cost["resolvers"] * documents - windows["resolvers"]
    ways = ("tree",) if gated else ((via,) if via in ("tree", "head") else ("tree", "head"))
    if now:
        ends = {"tree": max(api + cost["api"], resolvers), "head": max(api, resolvers + cost["resolvers"] * weights)}
        return min(ways, key=lambda way: (ends[way], way != "tree"))  # a tie goes to the tree: one request
    tree_end = api + cost["api"] + (0.0 if first_window else windows["api"])
    fits = {"tree": tree_end <= max(resolvers, 0.0),
            "head": resolvers + windows["resolvers"] + cost["resolvers"] * weights <= api}
    return next((way for way in ways if fits[way]), "pending")


def file_row_from_tree(model_id: str, sha: str, entry, weights: set[str]) -> dict | None:
    """The repo_files row a tree entry gives, in the shape a HEAD gives it, so that the way a crawl
    took never shows in the warehouse: a weight file's size, and its LFS sha256 or (kept in git)
    its blob id; nothing for other files, which stay listed by path alone."""
    if not (isinstance(entry, dict) and entry.get("type") == "file" and entry.get("path") in weights):
        return None
    lfs = entry.get("lfs") if isinstance(entry.get("lfs"), dict) else {}
    return {"model_id": model_id, "sha": sha, "path": entry["path"], "size": as_int(entry.get("size")),
            "lfs_sha256": as_str(lfs.get("oid")), "blob_id": None if lfs.get("oid") else as_str(entry.get("oid"))}


def file_row_from_head(model_id: str, sha: str, path: str, status: int, headers: dict[str, str]) -> dict | None:
    """The repo_files row a HEAD answer gives (headers with lower-case names), or None when the
    answer says nothing of the file (an error: the caller records it)."""
    if status in REDIRECTS and headers.get("x-linked-size"):
        size, sha256 = _int(headers["x-linked-size"]), _etag(headers.get("x-linked-etag"))
    elif status == 200 and headers.get("content-length"):
        size, sha256 = _int(headers["content-length"]), None  # kept in git, not LFS: no sha256 to give
    else:
        return None
    return {"model_id": model_id, "sha": sha, "path": path, "size": size, "lfs_sha256": sha256,
            "blob_id": _etag(headers.get("etag")) if sha256 is None else None}


def _etag(value: str | None) -> str | None:
    if not value:
        return None
    return value.removeprefix("W/").strip('"') or None


def _int(value: str) -> int | None:
    try:
        return as_int(int(value))
    except ValueError:
        return None
