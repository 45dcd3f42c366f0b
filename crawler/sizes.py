"""Where a changed model's weight sizes and LFS sha256 come from, spending each Hub bucket where it
is cheapest.

Two ways: the file tree, one request of the api bucket (the Hub's scarcest) for any number of
files; or a HEAD of each weight file through /resolve/, in the resolvers bucket (six times the api
bucket's quota), whose redirect carries X-Linked-Size and X-Linked-ETag (the sha256). Only weight
files matter: they are the sizes the audit reads (weights' total size, the SPDX export's files). A
model without weight files needs neither. For the rest the crawl keeps the work it has committed
to each bucket, in seconds of that bucket's quota, and gives each model the way that ends both
sooner: trees while the api bucket is the less loaded, HEADs once it is the more, so the two
buckets finish together instead of one idling while the other decides the pace. A gated model's
weights answer HEAD with 401, so it takes a tree.
"""
from __future__ import annotations

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

    def choose(self, weights: int, documents: int, gated: bool, via: str, rates: dict[str, float]) -> str | None:
        """'tree', 'head' or None (nothing to ask) for a model with these many weight files and
        documents to fetch; via: 'auto', or 'tree'/'head' to force one. rates: requests per second
        of each bucket (infinite without a limit). The choice's cost is committed."""
        api, resolvers = 1 / rates["api"], 1 / rates["resolvers"]  # seconds per request
        how = size_source(weights, gated, via, documents, self.committed, api, resolvers)
        self.committed["api"] += api if how == "tree" else 0.0
        self.committed["resolvers"] += resolvers * (documents + (weights if how == "head" else 0))
        return how


def size_source(weights: int, gated: bool, via: str, documents: int, committed: dict[str, float],
                api: float, resolvers: float) -> str | None:
    """The way whose cost, added to what each bucket has committed, ends both sooner (api,
    resolvers: seconds per request)."""
    if weights == 0:
        return None
    if gated:  # whatever was asked: HEAD cannot read its weights
        return "tree"
    if via in ("tree", "head"):
        return via
    by_tree = max(committed["api"] + api, committed["resolvers"] + resolvers * documents)
    by_head = max(committed["api"], committed["resolvers"] + resolvers * (documents + weights))
    return "head" if by_head < by_tree else "tree"


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
        return int(value)
    except ValueError:
        return None
