"""The Hub's write routes, as huggingface_hub's create_repo, upload_folder and create_commit use
them: POST /api/repos/create, /api/validate-yaml, /api/{kind}/{repo}/preupload/{rev} and
/api/{kind}/{repo}/commit/{rev} (NDJSON: a header line, then one line per file added or deleted).

A repo created here lives in the emulator's uploads folder, written as a world repo (info.json and
files/), so it is served like any other from then on and a later emulator can serve that folder.
Every file is taken as a regular git blob (the Hub sends large and binary files through LFS; the
preupload answer says "regular", so the client sends each file inline). Writes need a token, as
on the Hub, and a repo takes writes from the token that created it only (the emulator keeps a
digest of it, never the token); repos of the world itself are read-only, and only `main` takes
commits. Without an uploads folder every write answers 403.

A write's body is read only once its token is known to be good, and never past a size limit; a
body cut short (the client gone mid-upload) is applied as nothing, even when it ends between two
whole NDJSON lines. A path the Hub would refuse (a `.` or empty segment, a segment over 255 bytes,
over 1,000 bytes in all) is a 400, never an error of the emulator's own.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import shutil
import threading
from pathlib import Path
from typing import Callable

from openness.emulator.answer import Answer
from openness.emulator.store import OWNER_FILE, Repo, World, git_blob_oid

KINDS = {"model": "models", "dataset": "datasets"}
_WRITING = threading.Lock()  # one commit at a time: each rewrites a repo folder and its sha


MAX_SEGMENT_BYTES = 255  # a file name, as most file systems take it
MAX_PATH_BYTES = 1_000


def route(world: World, uploads: Path | None, method: str, segments: list[str], read_body: Callable[[], bytes | Answer],
          caller: str | None, base_url: str) -> Answer | None:
    """The answer to a write request, or None when the request is not one. read_body() gives the
    request's body, or the answer refusing it (too large, cut short); caller is the key of the
    request's token (store.token_key), None without one."""
    if method != "POST" or segments[:1] != ["api"]:
        return None
    if segments[1:] == ["validate-yaml"]:
        return Answer.json({"errors": [], "warnings": []})
    write = (segments[1:] == ["repos", "create"]
             or (len(segments) >= 5 and segments[1] in ("models", "datasets") and segments[-2] in ("preupload", "commit")))
    if not write:
        return None
    if caller is None:
        return Answer.error(401, "Invalid credentials in Authorization header")
    if uploads is None:
        return Answer.error(403, "This emulator is read-only: start it with an uploads folder to accept writes")
    if segments[1] == "repos":
        body = read_body()
        return body if isinstance(body, Answer) else create_repo(world, uploads, _json(body), caller, base_url)
    kind, repo_id, action, revision = segments[1], "/".join(segments[2:-2]), segments[-2], segments[-1]
    repo = world.get(kind, repo_id)
    if repo is None or (repo.hidden and repo.owner != caller):
        return Answer.error(404, "Repository not found", "RepoNotFound")
    if revision not in ("main", repo.sha):
        return Answer.error(404, f"Invalid rev id: {revision} (the emulator commits to main only)", "RevisionNotFound")
    if repo.owner is None:
        return Answer.error(403, f"{repo_id} belongs to the world, which is read-only")
    if repo.owner != caller:
        return Answer.error(403, f"You don't have the rights to write to {repo_id}: it belongs to another token")
    body = read_body()
    if isinstance(body, Answer):
        return body
    if action == "preupload":
        return preupload(repo, _json(body))
    return commit(world, repo, body, base_url)


def create_repo(world: World, uploads: Path, payload: dict | None, caller: str, base_url: str) -> Answer:
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
        return Answer.error(400, "A repo needs a name")
    kind = KINDS.get(payload.get("type") or "model")
    owner, name = payload.get("organization"), payload["name"]
    if kind is None:
        return Answer.error(400, f"The emulator holds models and datasets, not {payload.get('type')}s")
    if not isinstance(owner, str) or not _safe_segment(owner) or not _safe_segment(name):
        return Answer.error(400, "A repo id is owner/name (letters, digits, '-', '_', '.')")
    repo_id = f"{owner}/{name}"
    url = f"{base_url}/{'datasets/' if kind == 'datasets' else ''}{repo_id}"
    with _WRITING:
        if world.get(kind, repo_id) is not None:
            return Answer.json({"error": f"You already created this {kind[:-1]} repo", "url": url}, 409)
        folder = uploads / kind / owner / name
        (folder / "files").mkdir(parents=True, exist_ok=True)
        private = payload.get("visibility") == "private" or payload.get("private") is True
        (folder / "info.json").write_text(json.dumps({"id": repo_id, "private": private}, indent=2) + "\n", "utf-8")
        (folder / OWNER_FILE).write_text(caller + "\n", "ascii")
        world.add(kind, folder)
    return Answer.json({"url": url, "name": repo_id, "id": repo_id})


def preupload(repo: Repo, payload: dict | None) -> Answer:
    entries = payload.get("files") if isinstance(payload, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("path"), str) for e in entries):
        return Answer.error(400, "preupload takes {\"files\": [{\"path\", \"sample\", \"size\"}]}")
    refused = next((path_problem(e["path"]) for e in entries if path_problem(e["path"])), None)
    if refused:
        return Answer.error(400, refused)
    answers = []
    for entry in entries:
        stored = repo.file_bytes(entry["path"])
        answers.append({"path": entry["path"], "uploadMode": "regular", "shouldIgnore": False,
                        "oid": git_blob_oid(stored) if stored is not None else None})
    return Answer.json({"files": answers, "commitOid": repo.sha})


def commit(world: World, repo: Repo, body: bytes, base_url: str) -> Answer:
    try:
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError) as exc:
        return Answer.error(400, f"A commit is NDJSON: {exc}")
    header = lines[0].get("value") if lines and isinstance(lines[0], dict) and lines[0].get("key") == "header" else None
    if not isinstance(header, dict) or not isinstance(header.get("summary"), str):
        return Answer.error(400, "A commit starts with a header line carrying its summary")
    operations, problem = _operations(lines[1:])
    if problem:
        return Answer.error(400, problem)
    with _WRITING:
        if header.get("parentCommit") not in (None, repo.sha):
            return Answer.error(412, "A commit has happened since. Please refresh and try again.")
        files = repo.folder / "files"
        clash = _clash(files, operations)
        if clash:
            return Answer.error(400, clash)
        for op, path, content in operations:
            target = files / path
            if op == "file":
                target.parent.mkdir(parents=True, exist_ok=True)
                # a short name of its own: the file's name may already be as long as a name can be
                partial = target.with_name(f".partial-{hashlib.sha1(target.name.encode()).hexdigest()[:16]}")
                partial.write_bytes(content)
                partial.replace(target)
            elif op == "deletedFolder":
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        updated = world.add(repo.kind, repo.folder)
    prefix = "datasets/" if repo.kind == "datasets" else ""
    return Answer.json({"success": True, "commitOid": updated.sha,
                        "commitUrl": f"{base_url}/{prefix}{updated.id}/commit/{updated.sha}"})


def _clash(files: Path, operations: list[tuple[str, str, bytes | None]]) -> str | None:
    """A file to add where a folder is, or below a file: refused before anything is written."""
    added = {path for op, path, _ in operations if op == "file"}
    for path in added:
        folders = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
        if any(folder in added for folder in folders):
            return f"{path} is below another file of the same commit"
    for op, path, _ in operations:
        if op != "file":
            continue
        target = files / path
        if target.is_dir():
            return f"{path} is a folder in the repo"
        parent = next((p for p in target.parents if p != files and files in p.parents and p.is_file()), None)
        if parent is not None:
            return f"{path}: {parent.relative_to(files).as_posix()} is a file in the repo"
    return None


def _operations(lines: list) -> tuple[list[tuple[str, str, bytes | None]], str | None]:
    """(key, path, content) per line, or the first problem found: nothing is written unless all are good."""
    operations = []
    for line in lines:
        key = line.get("key") if isinstance(line, dict) else None
        value = line.get("value") if isinstance(line, dict) else None
        if key == "lfsFile":
            return [], "LFS uploads are not emulated (preupload asked for regular uploads)"
        if key not in ("file", "deletedFile", "deletedFolder") or not isinstance(value, dict):
            return [], f"An unknown commit line: {str(line)[:100]}"
        path = value.get("path")
        if not isinstance(path, str):
            return [], f"Invalid path in repo: {path!r}"
        problem = path_problem(path[:-1] if key == "deletedFolder" and path.endswith("/") else path)
        if problem:
            return [], problem
        content = None
        if key == "file":
            try:
                content = base64.b64decode(value.get("content") or "", validate=True)
            except (binascii.Error, ValueError):
                return [], f"{path}: content is not base64"
        operations.append((key, path.rstrip("/"), content))
    return operations, None


def path_problem(path: str) -> str | None:
    """Why a repo path is refused, or None: the path as written must be the file's one name (no
    `x/./y` or `x//y` standing for `x/y`), inside the repo, and short enough to store."""
    shown = repr(path[:80] + ("..." if len(path) > 80 else ""))
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or "\0" in path or any(p in ("", ".", "..") for p in parts):
        return f"Invalid path in repo: {shown}"
    if ".git" in parts:
        return f"Invalid path in repo: {shown} (.git is git's own)"
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        return f"Invalid path in repo: {shown} is over {MAX_PATH_BYTES:,} bytes"
    if any(len(p.encode("utf-8")) > MAX_SEGMENT_BYTES for p in parts):
        return f"Invalid path in repo: {shown} has a name over {MAX_SEGMENT_BYTES} bytes"
    return None


def _safe_segment(text: str) -> bool:
    return bool(text) and len(text) <= 96 and text not in (".", "..") \
        and all(c.isalnum() or c in "-_." for c in text)


def _json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
