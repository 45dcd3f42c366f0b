"""Links: what a model commit's findings point at outside the repo (Hub datasets, base models,
code repositories, papers), each with the evidence that makes the link. A pure function of the
findings, so links are re-derived whenever findings are."""
from __future__ import annotations

import re
from dataclasses import dataclass

from openness.extractors import locations
from openness.extractors.base import Evidence, Finding

# The Hub's repo ids: an optional namespace, a name; letters, digits, '-', '_', '.'; at most 96 characters.
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")
FOLLOWED_CODE_HOSTS = ("github.com",)
MAX_LINKED_PATHS = 10


@dataclass(frozen=True)
class Link:
    kind: str            # dataset, base_model, code, paper
    target: str          # the id that is followed: a Hub id, github.com/owner/repo, arxiv:ID
    url: str | None      # as the card wrote it, when it wrote a URL
    signal: str
    evidence: Evidence
    relevance: str = "own"   # own, mention (not followed: it cannot open a component), guess
    why: str | None = None   # what made it own or a mention
    paths: tuple[str, ...] = ()   # files or folders inside the target that the card points at


def links_from(findings: list[Finding]) -> list[Link]:
    """One link per (kind, target), from the first finding that makes it (an own link before a
    guess, a guess before a mention)."""
    rank = {"own": 0, "guess": 1, "mention": 2}
    links: dict[tuple[str, str], Link] = {}
    for finding in findings:
        for link in _links_of(finding):
            known = links.get((link.kind, link.target))
            if known is None or rank.get(link.relevance, 0) < rank.get(known.relevance, 0):
                links[(link.kind, link.target)] = link
    return list(links.values())


def _links_of(finding: Finding):
    value, evidence = finding.value, finding.evidence[0] if finding.evidence else None
    if evidence is None:
        return
    if finding.signal == "data.card_datasets" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                yield _hub_link("dataset", item["id"], finding.signal, evidence)
    elif finding.signal == "weights.base_model" and isinstance(value, dict):
        for model_id in value.get("ids") or []:
            if isinstance(model_id, str):
                yield _hub_link("base_model", model_id, finding.signal, evidence)
    elif finding.signal in ("code.link", "code.guess") and isinstance(value, dict):
        host, repo = str(value.get("host", "")).lower(), str(value.get("repo", ""))
        relevance = "guess" if finding.signal == "code.guess" else str(value.get("relevance") or "own")
        paths = tuple(p for p in value.get("paths") or [] if isinstance(p, str))
        yield Link("code", f"{host}/{repo}".lower(), value.get("url"), finding.signal, evidence, relevance,
                   value.get("why"), paths)
    elif finding.signal == "paper.arxiv" and isinstance(value, dict) and value.get("id"):
        yield Link("paper", f"arxiv:{value['id']}", value.get("url"), finding.signal, evidence,
                   str(value.get("relevance") or "own"), value.get("why"))


def _hub_link(kind: str, repo_id: str, signal: str, evidence: Evidence) -> Link:
    return Link(kind, repo_id.strip(), None, signal, evidence)


def unfollowable(kind: str, target: str) -> str | None:
    """Why a link cannot be followed (its target row says so), or None when it can."""
    if kind in ("dataset", "base_model"):
        return None if _HUB_ID.match(target) and ".." not in target else "invalid_id"
    if kind == "code":
        return None if target.split("/", 1)[0] in FOLLOWED_CODE_HOSTS and target.count("/") == 2 else "unsupported_host"
    return None


def link_rows(model_id: str, sha: str, findings: list[Finding], depth: int) -> list[dict]:
    """Warehouse rows (model_links) for a commit's links; Hub targets get their page on the public
    Hub, whatever endpoint the crawl read (extractors/locations.py)."""
    rows = []
    for link in links_from(findings):
        url = link.url
        if link.kind in ("dataset", "base_model"):
            url = locations.repo_url("dataset" if link.kind == "dataset" else "model", link.target)
        rows.append({"model_id": model_id, "sha": sha, "kind": link.kind, "target": link.target, "url": url,
                     "context": link.evidence.snippet[:500], "path": link.evidence.path,
                     "line_start": link.evidence.line_start, "signal": link.signal, "depth": depth,
                     "relevance": link.relevance, "relevance_why": (link.why or "")[:300] or None,
                     "paths": list(link.paths)[:MAX_LINKED_PATHS]})
    return rows
