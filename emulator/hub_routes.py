"""The Hub's routes over a world: listing, info, tree and resolve, with the Hub's errors."""
from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from urllib.parse import quote, unquote, urlencode

from openness.emulator.answer import Answer
from openness.emulator.store import (DATASET_EXPAND_KEYS, DATASET_LISTING_DEFAULT_KEYS, INFO_ONLY_KEYS,
                                 LISTING_DEFAULT_KEYS, MODEL_EXPAND_KEYS, Repo, World, git_blob_oid)

SORT_KEYS = {"downloads", "likes", "lastModified", "createdAt", "trendingScore"}
TEXT_SUFFIXES = (".md", ".txt", ".json", ".py", ".yaml", ".yml", ".cfg", ".toml", ".jinja", "LICENSE")


def route(world: World, method: str, raw_path: str, query: dict, base_url: str, page_size: int,
          caller: str | None = None) -> Answer:
    """caller: the key of the request's token (store.token_key), which shows the private repos that
    token created through this emulator (commit_routes.py); the world's own are someone else's."""
    segments = [unquote(s) for s in raw_path.strip("/").split("/")] if raw_path.strip("/") else []
    if segments[:2] == ["api", "papers"] and len(segments) == 3:
        return paper(world, segments[2])
    if segments[:1] == ["api"] and len(segments) >= 2 and segments[1] in ("models", "datasets"):
        kind = segments[1]
        if len(segments) == 2:
            if method != "GET":
                return Answer.error(405, "Method not allowed")
            return listing(world, kind, query, base_url, page_size)
        return repo_api(world, kind, segments[2:], query, raw_path, base_url, page_size, caller)
    kind = "models"
    if segments[:1] == ["datasets"]:
        kind, segments = "datasets", segments[1:]
    if "resolve" in segments:
        return resolve(world, kind, segments, method, raw_path, query, caller)
    return Answer.error(404, "Not Found")


def paper(world: World, arxiv_id: str) -> Answer:
    """GET /api/papers/{id}: the paper page (githubRepo, projectPage where the Hub knows them)."""
    page = world.paper(arxiv_id)
    if page is None:
        return Answer.json({"error": "Paper not found"}, 404)
    return Answer.json({"id": arxiv_id, **page})


# -- repo lookup --------------------------------------------------------------------------

def _split_repo_id(world: World, kind: str, segments: list[str]) -> tuple[str, list[str]]:
    """A repo id is 'owner/name' or, for legacy repos, a single 'name'."""
    if len(segments) >= 2:
        two = "/".join(segments[:2])
        if world.get(kind, two) or world.renamed_to(kind, two):
            return two, segments[2:]
    one = segments[0]
    if world.get(kind, one) or world.renamed_to(kind, one):
        return one, segments[1:]
    if len(segments) >= 2:
        return "/".join(segments[:2]), segments[2:]
    return one, []


def _repo_or_error(world: World, kind: str, repo_id: str, raw_path: str, query: dict,
                   caller: str | None = None) -> Repo | Answer:
    target = world.renamed_to(kind, repo_id)
    if target:
        location = raw_path.replace(quote(repo_id, safe="/"), quote(target, safe="/"), 1)
        if query:
            location += "?" + urlencode(query, doseq=True)
        return Answer.error(307, f"Repository moved to {target}", headers={"Location": location})
    repo = world.get(kind, repo_id)
    if repo is None or (repo.hidden and (caller is None or repo.owner != caller)):
        return Answer.error(401, "Repository not found", "RepoNotFound")
    if repo.disabled:
        return Answer.error(403, "Access to this resource is disabled.")
    return repo


def _revision_error(repo: Repo, rev: str) -> Answer | None:
    if rev in ("main", repo.sha) or (len(rev) >= 7 and repo.sha.startswith(rev)):
        return None
    return Answer.error(404, f"Invalid rev id: {rev}", "RevisionNotFound")


# -- listing ------------------------------------------------------------------------------

def listing(world: World, kind: str, query: dict, base_url: str, page_size: int) -> Answer:
    expand = query.get("expand", [])
    full = _flag(query, "full")
    with_card = _flag(query, "cardData")
    problem = _expand_problem(kind, expand, listing=True)
    if problem:
        return Answer.error(400, problem)
    if expand and (full or with_card):
        return Answer.error(400, "expand cannot be combined with full or cardData")
    repos = [r for r in world.listable(kind) if _matches(r, query)]
    sort = _first(query, "sort")
    if sort and sort not in SORT_KEYS:
        return Answer.error(400, f"Invalid sort parameter: {sort}")
    repos.sort(key=lambda r: r.id)
    if sort:
        repos.sort(key=lambda r: _sort_value(r.info.get(sort)), reverse=True)
    limit = _int(_first(query, "limit"))
    size = min(limit, page_size) if limit else page_size
    offset = _cursor_offset(_first(query, "cursor"))
    page = repos[offset: offset + size]
    items = [_listing_item(kind, r, expand, full, with_card, _flag(query, "config")) for r in page]
    headers = {}
    if offset + size < len(repos):
        headers["Link"] = _next_link(f"{base_url}/api/{kind}", query, offset + size)
    return Answer.json(items, headers=headers)


def _listing_item(kind: str, repo: Repo, expand: list[str], full: bool, with_card: bool,
                  with_config: bool) -> dict:
    info = repo.info
    if expand:
        return _expanded(repo, expand)
    if full:
        item = {k: v for k, v in info.items() if k not in ("cardData", "config")}
        item["siblings"] = [{"rfilename": s["rfilename"]} for s in info["siblings"]]
    else:
        keys = LISTING_DEFAULT_KEYS if kind == "models" else DATASET_LISTING_DEFAULT_KEYS
        item = {k: info[k] for k in keys if k in info}
    if with_card and "cardData" in info:
        item["cardData"] = info["cardData"]
    if with_config and "config" in info:
        item["config"] = info["config"]
    return item


def _expanded(repo: Repo, expand: list[str]) -> dict:
    item = {"_id": repo.info["_id"], "id": repo.id}
    for key in expand:
        if key == "siblings":
            item["siblings"] = [{"rfilename": s["rfilename"]} for s in repo.info["siblings"]]
        elif key in repo.info:
            item[key] = repo.info[key]
    return item


def _matches(repo: Repo, query: dict) -> bool:
    info = repo.info
    author = _first(query, "author")
    if author and str(info.get("author") or "").lower() != author.lower():
        return False
    search = _first(query, "search")
    if search and search.lower() not in repo.id.lower():
        return False
    tags = info.get("tags") if isinstance(info.get("tags"), list) else []  # a world may hold any type
    # a card's YAML may put any type anywhere (library_name: [x]): only text is a label
    labels = {t for t in [*tags, info.get("library_name"), info.get("pipeline_tag")] if isinstance(t, str)}
    if any(value not in labels for value in query.get("filter", [])):
        return False
    pipeline = _first(query, "pipeline_tag")
    if pipeline and info.get("pipeline_tag") != pipeline:
        return False
    if _flag(query, "gated") and not info.get("gated"):
        return False
    return True


def _expand_problem(kind: str, expand: list[str], listing: bool) -> str | None:
    allowed = MODEL_EXPAND_KEYS if kind == "models" else DATASET_EXPAND_KEYS
    for key in expand:
        if key not in allowed or (listing and key in INFO_ONLY_KEYS):
            return f'"expand" must be one of {sorted(allowed)}; got "{key}"'
    return None


# -- one repo -----------------------------------------------------------------------------

def repo_api(world: World, kind: str, segments: list[str], query: dict, raw_path: str,
             base_url: str, page_size: int, caller: str | None = None) -> Answer:
    repo_id, tail = _split_repo_id(world, kind, segments)
    repo = _repo_or_error(world, kind, repo_id, raw_path, query, caller)
    if isinstance(repo, Answer):
        return repo
    if not tail or tail[0] == "revision":
        if tail and (len(tail) < 2 or _revision_error(repo, tail[1])):
            return _revision_error(repo, tail[1] if len(tail) > 1 else "")
        return info(repo, query)
    if tail[0] == "tree" and len(tail) >= 2:
        error = _revision_error(repo, tail[1])
        return error or tree(repo, "/".join(tail[2:]), query, base_url, raw_path, page_size)
    if tail[0] == "refs":
        return Answer.json({"branches": [{"name": "main", "ref": "refs/heads/main",
                                          "targetCommit": repo.sha}], "tags": [], "converts": []})
    return Answer.error(404, "Not Found")


def info(repo: Repo, query: dict) -> Answer:
    expand = query.get("expand", [])
    problem = _expand_problem(repo.kind, expand, listing=False)
    if problem:
        return Answer.error(400, problem)
    if expand:
        return Answer.json(_expanded(repo, expand))
    payload = dict(repo.info)
    blobs = _flag(query, "blobs")
    payload["siblings"] = [_sibling(repo, s, blobs) for s in repo.info["siblings"]]
    return Answer.json(payload)


def _sibling(repo: Repo, entry: dict, blobs: bool) -> dict:
    if not blobs:
        return {"rfilename": entry["rfilename"]}
    path = entry["rfilename"]
    out = {"rfilename": path, "blobId": _oid(repo, path)}
    lfs = entry.get("lfs")
    if lfs:
        out["size"] = lfs.get("size", entry.get("size", 0))
        out["lfs"] = {"sha256": lfs.get("sha256"), "size": out["size"],
                      "pointerSize": lfs.get("pointerSize", 134)}
    else:
        out["size"] = entry.get("size", 0)
    return out


def _oid(repo: Repo, path: str) -> str:
    data = repo.file_bytes(path)
    if data is None:
        return hashlib.sha1(f"{repo.id}/{path}".encode()).hexdigest()
    return git_blob_oid(data)


def tree(repo: Repo, prefix: str, query: dict, base_url: str, raw_path: str, page_size: int) -> Answer:
    recursive = _flag(query, "recursive")
    files = {s["rfilename"]: s for s in repo.info["siblings"]}
    base = prefix.rstrip("/") + "/" if prefix else ""
    if prefix and prefix not in files and not any(p.startswith(base) for p in files):
        return Answer.error(404, f"{prefix} does not exist on main", "EntryNotFound")
    entries: dict[str, dict] = {}
    for path, entry in sorted(files.items()):
        if not path.startswith(base):
            continue
        rest = path[len(base):]
        parts = rest.split("/")
        for depth in range(1, len(parts)):
            directory = base + "/".join(parts[:depth])
            if recursive or depth == 1:
                entries.setdefault(directory, {"type": "directory", "oid": hashlib.sha1(
                    directory.encode()).hexdigest(), "size": 0, "path": directory})
        if recursive or len(parts) == 1:
            item = _sibling(repo, entry, blobs=True)
            record = {"type": "file", "oid": item["blobId"], "size": item["size"], "path": path}
            if "lfs" in item:
                record["lfs"] = {"oid": item["lfs"]["sha256"], "size": item["size"],
                                 "pointerSize": item["lfs"]["pointerSize"]}
            entries[path] = record
    ordered = sorted(entries.values(), key=lambda e: e["path"])
    offset = _cursor_offset(_first(query, "cursor"))
    headers = {}
    if offset + page_size < len(ordered):
        headers["Link"] = _next_link(f"{base_url}{raw_path}", query, offset + page_size)
    return Answer.json(ordered[offset: offset + page_size], headers=headers)


# -- files --------------------------------------------------------------------------------

def resolve(world: World, kind: str, segments: list[str], method: str, raw_path: str, query: dict,
            caller: str | None = None) -> Answer:
    at = segments.index("resolve")
    if at == 0 or len(segments) < at + 3:
        return Answer.error(404, "Not Found")
    repo_id = "/".join(segments[:at])
    rev, path = segments[at + 1], "/".join(segments[at + 2:])
    repo = _repo_or_error(world, kind, repo_id, raw_path, query, caller)
    if isinstance(repo, Answer):
        return repo
    error = _revision_error(repo, rev)
    if error:
        return error
    if repo.gated and path != "README.md":
        return Answer.error(401, f"Access to {kind[:-1]} {repo.id} is restricted. You must have access "
                            "to it and be authenticated to access it. Please log in.", "GatedRepo")
    entry = repo.sibling(path)
    lfs = entry.get("lfs") if entry else None
    if method == "HEAD" and isinstance(lfs, dict) and lfs.get("sha256"):
        return _lfs_redirect(repo, entry)
    data = repo.file_bytes(path)
    if data is None:
        headers = {"X-World-Missing": "1"} if entry else {}
        return Answer.error(404, "Entry not found", "EntryNotFound", headers=headers)
    headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{git_blob_oid(data)}"', "Accept-Ranges": "bytes",
               "Vary": "Origin, Accept-Encoding"}
    return Answer(200, data, headers, _content_type(path))


def _lfs_redirect(repo, entry: dict) -> Answer:
    """The Hub's answer to HEAD of an LFS file: a redirect to its storage, carrying the file's size
    and sha256 (what huggingface_hub's get_hf_file_metadata reads), whether or not the world holds
    the bytes. The storage URL is never followed by a HEAD that wants the metadata."""
    sha256 = entry["lfs"]["sha256"]
    size = entry["lfs"].get("size") or entry.get("size") or 0
    headers = {"X-Repo-Commit": repo.sha, "X-Linked-Size": str(size), "X-Linked-ETag": f'"{sha256}"',
               "ETag": f'"{sha256}"', "Location": f"https://cdn-lfs.hf.co/repos/{sha256[:2]}/{sha256[2:4]}/{sha256}",
               "Accept-Ranges": "bytes"}
    return Answer(302, b"", headers, "text/plain; charset=utf-8")


def _content_type(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.endswith(TEXT_SUFFIXES) or name.upper().startswith(("LICEN", "COPYING", "NOTICE")):
        return "text/plain; charset=utf-8"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# -- query helpers ------------------------------------------------------------------------

def _sort_value(value) -> tuple:
    """What a listing sorts by: a count, or a date (ISO text sorts as time); anything else (a world's
    odd value) sorts last."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    if isinstance(value, str):
        return (1, 0, value)
    return (0, 0, "")


def _first(query: dict, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _flag(query: dict, key: str) -> bool:
    return (_first(query, key) or "").lower() in ("1", "true")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _next_link(url: str, query: dict, offset: int) -> str:
    """The Hub's pagination header: an absolute URL, the cursor inside it."""
    rest = {k: v for k, v in query.items() if k != "cursor"}
    cursor = base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()
    return f'<{url}?' + urlencode({**rest, "cursor": [cursor]}, doseq=True) + '>; rel="next"'


def _cursor_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        return 0
