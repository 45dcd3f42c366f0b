"""GitHub's REST routes over a world's github/ folder, served under /api/v3 as GitHub Enterprise
serves them: repos, license, git/trees, contents. (/rate_limit is the server's: it knows the
budget.)"""
from __future__ import annotations

import base64
import re
from urllib.parse import quote, unquote, urlencode

from openness.emulator.answer import Answer
from openness.emulator.store import GitHubRepo, World

_LICENCE_FILE = re.compile(r"^(licen[cs]e|copying)([.-].*)?$", re.IGNORECASE)
DOCS = "https://docs.github.com/rest"


def not_found(headers: dict | None = None) -> Answer:
    return Answer.json({"message": "Not Found", "documentation_url": DOCS, "status": "404"}, 404, headers)


def route(world: World, raw_path: str, query: dict, base_url: str) -> Answer:
    """raw_path starts after /api/v3."""
    segments = [unquote(s) for s in raw_path.strip("/").split("/")]
    if len(segments) >= 2 and segments[0] == "repositories" and segments[1].isdigit():
        repo, rest = world.github_by_id(int(segments[1])), segments[2:]
    elif len(segments) >= 3 and segments[0] == "repos":
        repo, rest = world.github.get(f"{segments[1]}/{segments[2]}".lower()), segments[3:]
        moved = world.github_moved_to(f"{segments[1]}/{segments[2]}") if repo is None else None
        if moved is not None and not moved.info.get("private"):
            return _moved(moved, rest, query, base_url)
    else:
        return not_found()
    if repo is None or repo.info.get("private"):
        return not_found()
    api = f"{base_url}/api/v3/repos/{repo.full_name}"
    if not rest:
        return Answer.json({**repo.info, "url": api})
    if rest == ["license"]:
        return _licence(repo, api)
    if rest[:2] == ["git", "trees"] and len(rest) == 3:
        return _tree(repo, rest[2], _flag(query, "recursive"), api)
    if rest[0] == "contents":
        return _contents(repo, "/".join(rest[1:]), api)
    return not_found()


def _moved(repo: GitHubRepo, rest: list[str], query: dict, base_url: str) -> Answer:
    """GitHub's answer for an old name of a renamed or transferred repo: 301 to the repo by id."""
    url = f"{base_url}/api/v3/repositories/{repo.info['id']}" + "".join(f"/{quote(s)}" for s in rest)
    if query:
        url += "?" + urlencode(query, doseq=True)
    return Answer.json({"message": "Moved Permanently", "url": url, "documentation_url": DOCS}, 301,
                       {"Location": url})


def _licence(repo: GitHubRepo, api: str) -> Answer:
    path = next((p for p in sorted(repo.files) if "/" not in p and _LICENCE_FILE.match(p)), None)
    if path is None:
        return not_found()
    body = _file_item(repo, path, api)
    licence = repo.info.get("license") or {"key": "other", "name": "Other", "spdx_id": "NOASSERTION"}
    body["license"] = {**licence, "url": None if licence.get("key") == "other" else
                       f"https://api.github.com/licenses/{licence.get('key')}", "node_id": "L_" + str(licence.get("key"))}
    return Answer.json(body)


def _tree(repo: GitHubRepo, ref: str, recursive: bool, api: str) -> Answer:
    if ref not in (repo.default_branch, repo.tree_sha, "HEAD"):
        return not_found()
    entries = repo.tree if recursive else [e for e in repo.tree if "/" not in e["path"]]
    tree = [{**{k: e[k] for k in ("path", "mode", "type", "sha") if k in e},
             **({"size": e["size"]} if e.get("type") == "blob" and "size" in e else {}),
             "url": f"{api}/git/{'blobs' if e.get('type') == 'blob' else 'trees'}/{e['sha']}"} for e in entries]
    return Answer.json({"sha": repo.tree_sha, "url": f"{api}/git/trees/{repo.tree_sha}", "tree": tree,
                        "truncated": False})


def _contents(repo: GitHubRepo, path: str, api: str) -> Answer:
    path = path.strip("/")
    if path in repo.files:
        return Answer.json(_file_item(repo, path, api))
    entry = next((e for e in repo.tree if e["path"] == path), None)
    if entry is not None and entry.get("type") == "blob":
        return not_found({"X-World-Missing": "1"})
    prefix = f"{path}/" if path else ""
    children = [e for e in repo.tree if e["path"].startswith(prefix) and "/" not in e["path"][len(prefix):]]
    if not children:
        return not_found()
    return Answer.json([{"type": "file" if e.get("type") == "blob" else "dir", "name": e["path"].rsplit("/", 1)[-1],
                         "path": e["path"], "sha": e["sha"], "size": e.get("size", 0),
                         "url": f"{api}/contents/{e['path']}"} for e in children])


def _file_item(repo: GitHubRepo, path: str, api: str) -> dict:
    data = repo.files[path].read_bytes()
    entry = next((e for e in repo.tree if e["path"] == path), {})
    return {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
            "path": path, "content": base64.encodebytes(data).decode("ascii"), "sha": entry.get("sha"),
            "url": f"{api}/contents/{path}", "html_url": f"{repo.info['html_url']}/blob/{repo.default_branch}/{path}",
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{repo.default_branch}/{path}"}


def _flag(query: dict, key: str) -> bool:
    values = query.get(key)
    return bool(values) and values[0].lower() not in ("0", "false", "")
