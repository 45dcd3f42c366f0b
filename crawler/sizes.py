"""Where a changed model's weight sizes and LFS sha256 come from, spending each Hub bucket where it
is cheapest.

Two ways: the file tree, one request of the api bucket (the Hub's scarcest) for any number of
files; or a HEAD of each weight file through /resolve/, in the resolvers bucket (six times the api
bucket's quota), whose redirect carries X-Linked-Size and X-Linked-ETag (the sha256). Only weight
files matter: they are the sizes the audit reads (weights' total size, the SPDX export's files). A
model without weight files needs neither; the rest take a tree while the api bucket has room, and
HEADs when it has none and they cost fewer than the quotas' ratio (one tree's worth of api
capacity buys that many resolver requests). A gated model's weights answer HEAD with 401, so it
takes a tree.
"""
from __future__ import annotations

from openness.extractors.weights import weight_files

# Listing pages spend the api bucket too: trees never take its last requests.
LISTING_RESERVE = 2
REDIRECTS = (301, 302, 303, 307, 308)


def weight_paths(paths: list[str]) -> list[str]:
    """The files whose size and sha256 the audit reads (an index of shards is not one)."""
    return [p for found in weight_files(paths).values() for p in found if not p.endswith(".index.json")]


def size_source(weights: int, gated: bool, via: str, api_room: float, heads_per_tree: float) -> str | None:
    """'tree', 'head' or None (nothing to ask). via: 'auto', or 'tree'/'head' to force one;
    api_room: api requests that could go now; heads_per_tree: resolvers' rate over the api's."""
    if weights == 0:
        return None
    if gated:  # whatever was asked: HEAD cannot read its weights
        return "tree"
    if via in ("tree", "head"):
        return via
    if weights > heads_per_tree:
        return "tree"
    return "tree" if api_room >= 1 else "head"


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
