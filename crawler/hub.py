"""The Hub side of a crawl: URL building and payload parsing, as pure functions.

huggingface_hub does the Hub-specific work (endpoint, URL quoting, ModelInfo and card parsing);
this module only adapts it to requests that Scrapy sends.
"""
from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import quote, urlencode, urlsplit

import yaml
from huggingface_hub import ModelCard, ModelInfo, hf_hub_url
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from openness.extractors.card_yaml import yaml_problem
from openness.extractors.base import front_matter_span
from openness.extractors.licenses import is_licence_file

# What the listing's expand returns per model: everything the warehouse stores, in one call
# per page of models. baseModels and usedStorage are model_info only, so they are not here.
LISTING_EXPAND = ("author", "cardData", "config", "createdAt", "disabled", "downloads", "gated",
                  "gguf", "lastModified", "library_name", "likes", "pipeline_tag", "private",
                  "safetensors", "sha", "siblings", "tags", "transformersInfo")
MAX_PAGE_SIZE = 1000
MAX_LICENCE_FILES = 12  # a repo with thousands of LICENSE-* files gets its first dozen fetched

for _name in ("huggingface_hub.repocard", "huggingface_hub.repocard_data"):  # card problems are recorded, not logged
    logging.getLogger(_name).setLevel(logging.ERROR)


def listing_url(endpoint: str, *, authors=(), search=None, filters=(), sort=None, limit=None) -> str:
    params: list[tuple[str, str]] = []
    for author in authors:
        params.append(("author", author))
    if search:
        params.append(("search", search))
    params += [("filter", f) for f in filters]
    if sort:
        params.append(("sort", sort))
    params.append(("limit", str(min(limit or MAX_PAGE_SIZE, MAX_PAGE_SIZE))))
    params += [("expand", key) for key in LISTING_EXPAND]
    return f"{endpoint.rstrip('/')}/api/models?{urlencode(params)}"


def model_info_url(endpoint: str, model_id: str) -> str:
    params = urlencode([("expand", key) for key in LISTING_EXPAND])
    return f"{endpoint.rstrip('/')}/api/models/{quote(model_id, safe='/')}?{params}"


def tree_url(endpoint: str, model_id: str, sha: str) -> str:
    return (f"{endpoint.rstrip('/')}/api/models/{quote(model_id, safe='/')}/tree/"
            f"{quote(sha, safe='')}?recursive=true&expand=false")


def file_url(endpoint: str, repo_id: str, sha: str, path: str, repo_type: str | None = None) -> str:
    return hf_hub_url(repo_id, path, revision=sha, endpoint=endpoint.rstrip("/"), repo_type=repo_type)


def dataset_info_url(endpoint: str, dataset_id: str) -> str:
    """The dataset's info with its card data and files; a renamed id answers with a redirect."""
    return f"{endpoint.rstrip('/')}/api/datasets/{quote(dataset_id, safe='/')}"


def paper_url(endpoint: str, arxiv_id: str) -> str:
    """The Hub's paper page (GET /api/papers/{id}, as huggingface_hub's paper_info reads it)."""
    return f"{endpoint.rstrip('/')}/api/papers/{quote(arxiv_id, safe='')}"


_GITHUB_REPO = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9][\w.-]*)/([\w.-]+?)(?:\.git)?/?(?:[#?].*)?$")


def paper_page_fields(payload) -> dict:
    """What a paper page says of the paper's code and project page (huggingface_hub's PaperInfo
    keys githubRepo and projectPage), tolerant of missing or odd values."""
    if not isinstance(payload, dict):
        raise ValueError("a paper page that is not a JSON object")
    paper = payload.get("paper") if isinstance(payload.get("paper"), dict) else {}
    github = payload.get("githubRepo") or paper.get("githubRepo")
    found = _GITHUB_REPO.match(github.strip()) if isinstance(github, str) else None
    project = payload.get("projectPage") or paper.get("projectPage")
    title = payload.get("title") or paper.get("title")
    summary = payload.get("summary") or paper.get("summary")
    return {"github_repo": f"{found.group(1)}/{found.group(2)}" if found else None,
            "project_page": project.strip()[:500] if isinstance(project, str) and project.strip() else None,
            "title": title[:1000] if isinstance(title, str) else None,
            "abstract": summary[:10000] if isinstance(summary, str) else None}


def next_page_url(link_header: str | None) -> str | None:
    """The rel="next" target of a Link header (the Hub sends it absolute, cursor inside)."""
    if not link_header:
        return None
    for part in link_header.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;(.*)', part)
        if match and re.search(r'rel\s*=\s*"?next"?', match.group(2)):
            return match.group(1)
    return None


def id_problem(repo_id: str) -> str | None:
    """Why huggingface_hub would refuse repo_id (a space, markup, '..'), or None when it is usable."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        return f"invalid id {repo_id[:200]!r}: {' '.join(str(exc).split())[:300]}"
    return None


def parse_model(payload: dict) -> ModelInfo:
    """huggingface_hub's own parsing; raises on payloads it cannot read (e.g. bad dates)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise ValueError("model payload without an id")
    return ModelInfo(**payload)


def licence_like_paths(paths: list[str], card_data: dict | None) -> list[str]:
    """Licence files worth fetching: LICENSE*, LICENCE*, COPYING*, USE_POLICY*, NOTICE* anywhere in
    the repo, and the file a card's license_link names when it lies in the repo."""
    present = set(paths)
    chosen = [p for p in paths if is_licence_file(p)]
    linked = license_link_path(card_data)
    if linked and linked in present and linked not in chosen:
        chosen.insert(0, linked)
    return chosen[:MAX_LICENCE_FILES]


def license_link_path(card_data: dict | None) -> str | None:
    """license_link as a repo path: 'LICENSE', './LICENSE.md' or a /blob/ or /resolve/ URL."""
    if not isinstance(card_data, dict):
        return None
    link = card_data.get("license_link")
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    if "://" not in link:
        return link.lstrip("./") or None
    parts = urlsplit(link).path.strip("/").split("/")
    for marker in ("blob", "resolve", "raw"):
        if marker in parts:
            at = parts.index(marker)
            if len(parts) > at + 2:
                return "/".join(parts[at + 2:])
    return None


def html_in_place_of_file(headers: dict[str, str]) -> bool:
    """An HTML page answering for a repo file (a proxy's or gateway's error page, status 200): the
    Hub's /resolve/ answers carry X-Repo-Commit, and a page without it in HTML is not the file."""
    return "x-repo-commit" not in headers and "text/html" in headers.get("content-type", "")


HTML_IN_PLACE = "an HTML page came back instead of the file (proxy or error page?)"


def decode_document(raw: bytes, cap: int) -> tuple[str | None, str | None, bool]:
    """(text, encoding, truncated). Binary content gives no text; undecodable UTF-8 falls back to
    cp1252, then latin-1, and says so."""
    truncated = len(raw) > cap
    data = raw[:cap]
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, None, truncated
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16", truncated
    try:
        return data.decode("utf-8-sig"), "utf-8", truncated
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 3:  # the cap cut a character in two
            return data[:exc.start].decode("utf-8-sig"), "utf-8", truncated
    for encoding in ("cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding, truncated
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def card_status(text: str | None) -> tuple[str, str | None]:
    """How the README's metadata block reads: ok, no_metadata, invalid_metadata or unreadable."""
    if text is None:
        return "unreadable", "README.md is binary"
    text = text.removeprefix("\ufeff")  # the Hub reads cards as utf-8-sig
    block = front_matter_span(text)
    problem = yaml_problem(text[block[0]:block[1]]) if block else None
    if problem:
        return "invalid_metadata", problem
    try:
        card = ModelCard(text, ignore_metadata_errors=True)
    except yaml.YAMLError as exc:
        return "invalid_metadata", " ".join(str(exc).split())[:500]
    except Exception as exc:  # card text is untrusted; any parse failure is the card's, not ours
        return "invalid_metadata", f"{type(exc).__name__}: {exc}"[:500]
    if not card.data.to_dict():
        return "no_metadata", None
    return "ok", None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
