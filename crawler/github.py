"""The GitHub side of a crawl: REST URL building, payload parsing and the rate-limit rules, as pure
functions. The base URL is a setting (https://api.github.com, or GitHub Enterprise's /api/v3)."""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import quote

from openness.crawler.records import as_str, parse_time
from openness.extractors.code_repos import DOCUMENT_SUFFIXES, MODEL_DOCUMENT, REQUIREMENT_FILES
from openness.extractors.licenses import is_licence_file, is_model_licence_file

API_VERSION = "2022-11-28"
MAX_LICENCE_FILES = 3
MAX_MODEL_LICENCE_FILES = 3  # nested model licence files read (a monorepo of many models has many)
# Per hour, as GitHub documents them: 60 without a token, 5,000 with one.
BUDGETS = {"anonymous": 60, "token": 5000}


def repo_url(api: str, full_name: str) -> str:
    return f"{api.rstrip('/')}/repos/{quote(full_name, safe='/')}"


def tree_url(api: str, full_name: str, ref: str) -> str:
    return f"{repo_url(api, full_name)}/git/trees/{quote(ref, safe='')}?recursive=1"


def contents_url(api: str, full_name: str, path: str, ref: str) -> str:
    return f"{repo_url(api, full_name)}/contents/{quote(path)}?ref={quote(ref, safe='')}"


def repo_fields(payload: dict) -> dict:
    """The code_repos columns GitHub's repo answer gives; tolerant of missing or odd values."""
    licence = payload.get("license") if isinstance(payload.get("license"), dict) else {}
    topics = payload.get("topics") if isinstance(payload.get("topics"), list) else []
    return {
        "full_name": as_str(payload.get("full_name")), "html_url": as_str(payload.get("html_url")),
        "default_branch": as_str(payload.get("default_branch")) or "HEAD",
        "pushed_at": parse_time(payload.get("pushed_at")), "archived": bool(payload.get("archived")),
        "fork": bool(payload.get("fork")), "description": as_str(payload.get("description")),
        "topics": [t for t in topics if isinstance(t, str)], "host_licence": as_str(licence.get("spdx_id")),
    }


def tree_blobs(payload) -> tuple[str | None, list[str], bool]:
    """(tree sha, blob paths, truncated) of a recursive git tree answer."""
    if not isinstance(payload, dict) or not isinstance(payload.get("tree"), list):
        raise ValueError("not a git tree")
    paths = [e["path"] for e in payload["tree"]
             if isinstance(e, dict) and e.get("type") == "blob" and isinstance(e.get("path"), str)]
    return as_str(payload.get("sha")), paths, bool(payload.get("truncated"))


def wanted_files(paths: list[str], linked: list[str] | None = None) -> list[str]:
    """What is read of a repo beyond its tree: the root README, root licence files, model licence
    files anywhere in it, the root files that name its dependencies, its root model cards, and the
    documents models link to inside it (a model card kept beside the code: examples/<model>/model_card.md)."""
    root = sorted(p for p in paths if "/" not in p)
    readme = [p for p in root if re.match(r"readme(\.(md|rst|txt|markdown))?$", p, re.IGNORECASE)][:1]
    licences = [p for p in root if is_licence_file(p)][:MAX_LICENCE_FILES]
    # a model licence kept beside the project it covers (projects/<model>/MODEL_LICENSE.md)
    nested = sorted((p for p in paths if "/" in p and is_model_licence_file(p)), key=lambda p: (p.count("/"), p))
    requirements = [p for p in root if p in REQUIREMENT_FILES]
    return readme + licences + nested[:MAX_MODEL_LICENCE_FILES] + requirements + model_documents(paths, linked or [])


MAX_MODEL_DOCUMENTS = 5


def model_documents(paths: list[str], linked: list[str]) -> list[str]:
    """A repo's root model cards and the documents (Markdown, reST) models link to inside it,
    at most MAX_MODEL_DOCUMENTS: a linked folder stands for its README."""
    blobs = set(paths)
    chosen = [p for p in sorted(paths) if "/" not in p and MODEL_DOCUMENT.match(p)]
    for path in linked:
        path = path.strip("/")
        candidates = [path] + [f"{path}/{name}" for name in ("README.md", "readme.md", "model_card.md")]
        found = next((c for c in candidates if c in blobs and c.lower().endswith(DOCUMENT_SUFFIXES)), None)
        if found and found not in chosen and not re.match(r"readme\.", found, re.IGNORECASE):
            chosen.append(found)
    return chosen[:MAX_MODEL_DOCUMENTS]


def file_content(payload) -> bytes:
    """The bytes of a contents API answer (base64 inside JSON)."""
    if not isinstance(payload, dict) or payload.get("encoding") != "base64" or not isinstance(payload.get("content"), str):
        raise ValueError("not a file's contents")
    try:
        return base64.b64decode("".join(payload["content"].split()), validate=True)  # GitHub wraps lines
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"bad base64 content: {exc}") from None


def rate_limit_wait(status: int, headers: dict[str, str], body: bytes, now: float) -> float | None:
    """Seconds to wait before GitHub takes requests again, or None when the answer is not a rate
    limit. Secondary limits send Retry-After; the primary one sends remaining 0 and a reset time;
    a limit with neither asks for a minute at least (GitHub's REST guide)."""
    retry_after = headers.get("retry-after", "").strip()
    remaining = headers.get("x-ratelimit-remaining", "").strip()
    reset = headers.get("x-ratelimit-reset", "").strip()
    if status in (403, 429) and retry_after.isdigit():
        return float(retry_after)
    if remaining == "0" and reset.isdigit():
        return max(0.0, int(reset) - now) + 1.0
    if status == 429 or (status == 403 and b"rate limit" in body[:2000].lower()):
        return 60.0
    return None
