"""Where a piece of evidence is, independent of the endpoint a crawl read it from: a repo (a Hub
model or dataset id, or github.com/owner/name), the revision read, the path and the lines. A
crawl of an emulator or a mirror reads the same files as one of the Hub; its evidence must not
carry that endpoint's address (an emulator's port is gone by the next day). Addresses are built
from these fields: at extraction for the public Hub and GitHub (the `url` stored beside them, to
click from a query), and at output time for the endpoint in use (explain, report, SPDX)."""
from __future__ import annotations

PUBLIC_HUB = "https://huggingface.co"
PUBLIC_GITHUB = "https://github.com"
KINDS = ("model", "dataset", "code")


def repo_url(kind: str, repo: str, hub: str = PUBLIC_HUB) -> str:
    """The page of a Hub model or dataset, or of a code repository (repo: github.com/owner/name)."""
    if kind == "code":
        return f"https://{repo}"
    return f"{hub.rstrip('/')}/{'datasets/' if kind == 'dataset' else ''}{repo}"


def file_url(kind: str, repo: str, revision: str | None, path: str, line_start: int | None = None,
             line_end: int | None = None, hub: str = PUBLIC_HUB) -> str:
    """The page showing a file at a revision, at its lines: the Hub's and GitHub's blob views with
    their #L anchors. A code repository's files are shown at its default branch (HEAD): the crawl
    keeps its tree's id, which GitHub's pages do not take."""
    ref = "HEAD" if kind == "code" or not revision else revision
    url = f"{repo_url(kind, repo, hub)}/blob/{ref}/{path}"
    if isinstance(line_start, int) and line_start > 0:
        url += f"#L{line_start}"
        if isinstance(line_end, int) and line_end > line_start:
            url += f"-L{line_end}"
    return url


def info_url(kind: str, repo: str, revision: str | None, hub: str = PUBLIC_HUB) -> str:
    """The Hub API's metadata of a model or dataset at a revision (card data, tags, siblings)."""
    plural = "datasets" if kind == "dataset" else "models"
    return f"{hub.rstrip('/')}/api/{plural}/{repo}" + (f"/revision/{revision}" if revision else "")


def evidence_url(evidence: dict, hub: str = PUBLIC_HUB) -> str | None:
    """The address of a stored piece of evidence at the endpoint in use. Evidence stored before its
    repo and revision were kept gives its stored url as it is."""
    kind, repo = evidence.get("source"), evidence.get("repo")
    if kind not in KINDS or not isinstance(repo, str) or not repo:
        return evidence.get("url")
    revision, path = evidence.get("revision"), evidence.get("path")
    if not path:
        return repo_url(kind, repo, hub) if kind == "code" else info_url(kind, repo, revision, hub)
    return file_url(kind, repo, revision, path, evidence.get("line_start"), evidence.get("line_end"), hub)


def dump_note(dataset: str, revision: str | None, file: str | None, row: int | None, date, commit: str | None) -> str:
    """How a card read from one of the Hub's daily card dumps (crawl --bootstrap) is named wherever
    its evidence is shown: the dump's date, dataset, revision and row, and the model commit the
    listing gave (the card is that commit's: the dump's row was at least as new)."""
    day = date.strftime("%Y-%m-%d") if hasattr(date, "strftime") else str(date or "an unknown date")[:10]
    where = f"{dataset}@{(revision or '')[:12]}" + (f", {file} row {row}" if file is not None else "")
    return f"card read from the Hub's daily dump of {day} ({where}); model commit {(commit or '')[:12]} from the listing"
