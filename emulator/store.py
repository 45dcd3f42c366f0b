"""A world folder read into memory, with the keys the Hub derives filled in.

Only this module reads a world's files; the server answers from it. It deliberately shares no
code with the crawler's parsing (it models the services, not our reading of them), only the
crawler's limits on card YAML, so that a bomb in a world cannot take the emulator down.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from openness.extractors.card_yaml import yaml_problem

EPOCH = "2024-01-01T00:00:00.000Z"
KINDS = ("models", "datasets")
# What the Hub's listing returns for a model when neither expand nor full is asked for.
LISTING_DEFAULT_KEYS = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
                        "pipeline_tag", "library_name", "createdAt", "modelId")
DATASET_LISTING_DEFAULT_KEYS = ("_id", "id", "author", "sha", "lastModified", "private", "gated",
                                "disabled", "downloads", "likes", "tags", "createdAt")
MODEL_EXPAND_KEYS = frozenset(
    "author baseModels cardData childrenModelCount config createdAt disabled downloads "
    "downloadsAllTime evalResults gated gguf inference inferenceProviderMapping lastModified "
    "library_name likes mask_token model-index pipeline_tag private resourceGroup safetensors "
    "sha siblings spaces tags transformersInfo trendingScore usedStorage widgetData".split())
DATASET_EXPAND_KEYS = frozenset(
    "author cardData citation createdAt description disabled downloads downloadsAllTime gated "
    "lastModified likes mainSize paperswithcode_id private resourceGroup sha siblings tags "
    "trendingScore usedStorage".split())
INFO_ONLY_KEYS = frozenset({"baseModels", "childrenModelCount", "usedStorage"})


@dataclass
class Repo:
    kind: str  # "models" or "datasets"
    id: str
    folder: Path
    info: dict
    files: dict[str, Path] = field(default_factory=dict)  # stored files by repo path
    # created through the emulator: the sha256 of the token that created it, which alone may write
    # to it and see it while private (None: the world's own, read-only)
    owner: str | None = None

    @property
    def sha(self) -> str:
        return self.info["sha"]

    @property
    def gated(self) -> bool:
        return bool(self.info.get("gated"))

    @property
    def hidden(self) -> bool:
        return bool(self.info.get("private"))

    @property
    def disabled(self) -> bool:
        return bool(self.info.get("disabled"))

    def sibling(self, path: str) -> dict | None:
        for entry in self.info["siblings"]:
            if entry.get("rfilename") == path:
                return entry
        return None

    def file_bytes(self, path: str) -> bytes | None:
        stored = self.files.get(path)
        return stored.read_bytes() if stored is not None else None


class World:
    """Every repo of one or more world folders, by kind and id, plus their renames and paper pages.
    Several folders are served as one world (e.g. a calibration world whose cards link GitHub repos
    that another world holds); where two hold the same repo, the first one given wins."""

    def __init__(self, *roots: str | os.PathLike):
        if not roots:
            raise ValueError("a world needs at least one folder")
        self.roots = [Path(r) for r in roots]
        for root in self.roots:
            if not root.is_dir():
                raise FileNotFoundError(f"world folder not found: {root}")
        self.root = self.roots[0]
        self.repos: dict[str, dict[str, Repo]] = {kind: {} for kind in KINDS}
        self._ids_by_case: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}  # lowercased id -> id
        self.github: dict[str, GitHubRepo] = {}
        self.redirects: dict[str, str] = {}
        self.papers: dict[str, Path] = {}
        for root in self.roots:
            self._load(root)

    def _load(self, root: Path) -> None:
        for kind in KINDS:
            base = root / kind
            if not base.is_dir():
                continue
            for info_path in sorted(base.glob("*/*/info.json")):
                repo = _read_repo(kind, info_path.parent)
                self.repos[kind].setdefault(repo.id, repo)
                self._ids_by_case[kind].setdefault(repo.id.lower(), repo.id)
        base = root / "github"
        if base.is_dir():
            for repo_json in sorted(base.glob("*/*/repo.json")):
                repo = _read_github(repo_json.parent)
                self.github.setdefault(repo.full_name.lower(), repo)
        redirects = root / "redirects.json"
        if redirects.is_file():
            for old, new in json.loads(redirects.read_text("utf-8")).items():
                self.redirects.setdefault(old, new)
        base = root / "papers"
        if base.is_dir():
            for page in sorted(base.glob("*.json")):
                self.papers.setdefault(page.stem.lower(), page)

    def get(self, kind: str, repo_id: str) -> Repo | None:
        """The repo of an id in any case, as the Hub matches ids (its answer gives the id as written)."""
        found = self.repos[kind].get(repo_id)
        if found is None and repo_id:
            canonical = self._ids_by_case[kind].get(repo_id.lower())
            found = self.repos[kind].get(canonical) if canonical else None
        return found

    def add(self, kind: str, folder: Path) -> Repo:
        """Read (again) a repo folder written while serving (emulator/commit_routes.py)."""
        repo = _read_repo(kind, folder)
        repo.owner = owner_of(folder)
        self.repos[kind][repo.id] = repo
        self._ids_by_case[kind].setdefault(repo.id.lower(), repo.id)
        return repo

    def renamed_to(self, kind: str, repo_id: str) -> str | None:
        target = self.redirects.get(f"{kind}/{repo_id}")
        if target and target.startswith(kind + "/"):
            return target[len(kind) + 1:]
        return None

    def github_moved_to(self, full_name: str) -> GitHubRepo | None:
        """The repo an old GitHub name now is (renamed or transferred), when the world says so."""
        target = next((new for old, new in self.redirects.items()
                       if old.lower() == f"github/{full_name}".lower()), None)
        if target and target.startswith("github/"):
            return self.github.get(target[len("github/"):].lower())
        return None

    def github_by_id(self, repo_id: int) -> GitHubRepo | None:
        return next((r for r in self.github.values() if r.info.get("id") == repo_id), None)

    def paper(self, arxiv_id: str) -> dict | None:
        """The Hub's paper page for an arXiv id (papers/<id>.json), without provenance notes."""
        page = self.papers.get(arxiv_id.lower())
        if page is None:
            return None
        raw = json.loads(page.read_text("utf-8"))
        return {k: v for k, v in raw.items() if not k.startswith("_provenance")} if isinstance(raw, dict) else None

    def web_page(self, host: str, path: str) -> Path | None:
        """web/<host>/<path> of the world, when it holds that page (never outside web/)."""
        for root in self.roots:
            base = (root / "web").resolve()
            page = (base / host / path.lstrip("/")).resolve()
            if base in page.parents and page.is_file():
                return page
        return None

    def listable(self, kind: str) -> list[Repo]:
        return [r for r in self.repos[kind].values() if not r.hidden and not r.disabled]


def _read_repo(kind: str, folder: Path) -> Repo:
    raw = json.loads((folder / "info.json").read_text("utf-8"))
    info = {k: v for k, v in raw.items() if not k.startswith("_provenance")}
    repo_id = info.get("id") or f"{folder.parent.name}/{folder.name}"
    files_dir = folder / "files"
    files = {}
    if files_dir.is_dir():
        for path in sorted(files_dir.rglob("*")):
            if path.is_file():
                files[path.relative_to(files_dir).as_posix()] = path
    _derive_keys(kind, repo_id, folder, info, files)
    return Repo(kind=kind, id=repo_id, folder=folder, info=info, files=files)


OWNER_FILE = "owner.sha256"  # beside info.json in a repo created through the emulator


def token_key(token: str | None) -> str | None:
    """What the emulator keeps of a token to know its repos again: a digest, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None


def owner_of(folder: Path) -> str | None:
    try:
        key = (folder / OWNER_FILE).read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return key if len(key) == 64 else None


def _derive_keys(kind: str, repo_id: str, folder: Path, info: dict, files: dict[str, Path]) -> None:
    info["id"] = repo_id
    info.setdefault("_id", hashlib.sha1(repo_id.encode()).hexdigest()[:24])
    info.setdefault("author", repo_id.split("/")[0] if "/" in repo_id else None)
    info.setdefault("sha", _content_sha(folder))
    info.setdefault("lastModified", EPOCH)
    info.setdefault("createdAt", EPOCH)
    for key, default in (("private", False), ("disabled", False), ("gated", False),
                         ("downloads", 0), ("likes", 0), ("tags", [])):
        info.setdefault(key, default)
    if kind == "models":
        info.setdefault("modelId", repo_id)
        info.setdefault("trendingScore", 0)
    siblings = info.get("siblings")
    if siblings is None:
        siblings = [{"rfilename": p} for p in files]
    # the Hub derives siblings from the repo's files: an entry that names no file cannot occur
    siblings = [e for e in siblings if isinstance(e, dict) and isinstance(e.get("rfilename"), str)] \
        if isinstance(siblings, list) else []
    listed = {s.get("rfilename") for s in siblings}
    siblings = siblings + [{"rfilename": p} for p in files if p not in listed]
    for entry in siblings:
        stored = files.get(entry.get("rfilename"))
        if stored is not None and "size" not in entry and "lfs" not in entry:
            entry["size"] = stored.stat().st_size
    info["siblings"] = siblings
    if kind == "models" and "config" not in info and "config.json" in files:
        config = _hub_config(files["config.json"].read_bytes())
        if config:
            info["config"] = config
    if "cardData" not in info and "README.md" in files:
        card = _front_matter(files["README.md"].read_bytes())
        if card is not None:
            info["cardData"] = card


# The keys of config.json that the Hub's `config` expand returns.
HUB_CONFIG_KEYS = ("architectures", "model_type", "auto_map", "quantization_config", "task_specific_params",
                   "tokenizer_config", "peft")


def _hub_config(raw: bytes) -> dict | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {k: data[k] for k in HUB_CONFIG_KEYS if k in data} or None


def _front_matter(raw: bytes) -> dict | None:
    text = raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 4)
    if end < 0:
        return None
    if yaml_problem(text[4:end]):  # a YAML bomb: the Hub's limits refuse it, and so do ours
        return None
    try:
        data = yaml.safe_load(text[4:end])
    except (yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _content_sha(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class GitHubRepo:
    full_name: str
    folder: Path
    info: dict
    tree: list[dict]
    tree_sha: str
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def default_branch(self) -> str:
        return self.info.get("default_branch") or "main"


def _read_github(folder: Path) -> GitHubRepo:
    raw = json.loads((folder / "repo.json").read_text("utf-8"))
    info = {k: v for k, v in raw.items() if not k.startswith("_provenance")}
    full_name = info.get("full_name") or f"{folder.parent.name}/{folder.name}"
    owner, name = full_name.split("/", 1)
    info.setdefault("full_name", full_name)
    info.setdefault("name", name)
    info.setdefault("owner", {"login": owner})
    info.setdefault("id", int(hashlib.sha1(full_name.encode()).hexdigest()[:8], 16))
    info.setdefault("html_url", f"https://github.com/{full_name}")
    for key, default in (("private", False), ("fork", False), ("archived", False), ("default_branch", "main"),
                         ("description", None), ("topics", []), ("license", None), ("pushed_at", EPOCH[:19] + "Z")):
        info.setdefault(key, default)
    files_dir = folder / "files"
    files = {p.relative_to(files_dir).as_posix(): p for p in sorted(files_dir.rglob("*")) if p.is_file()} \
        if files_dir.is_dir() else {}
    tree_path = folder / "tree.json"
    tree_data = json.loads(tree_path.read_text("utf-8")) if tree_path.is_file() else {}
    tree = [dict(e) for e in tree_data.get("tree") or [] if isinstance(e, dict) and e.get("path")]
    listed = {e["path"] for e in tree}
    for path, stored in files.items():
        if path not in listed:
            tree.append({"path": path, "type": "blob", "size": stored.stat().st_size})
    for entry in tree:
        entry.setdefault("mode", "040000" if entry.get("type") == "tree" else "100644")
        stored = files.get(entry["path"])
        entry.setdefault("sha", git_blob_oid(stored.read_bytes()) if stored else
                         hashlib.sha1(f"{full_name}/{entry['path']}".encode()).hexdigest())
    tree_sha = tree_data.get("sha") or _content_sha(folder)
    return GitHubRepo(full_name, folder, info, sorted(tree, key=lambda e: e["path"]), tree_sha, files)


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob, as the Hub's tree endpoint and ETag report it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
