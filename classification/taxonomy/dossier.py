"""A model's dossier: everything the taxonomy engine reads of one model commit (its findings, what
its links led to, its papers, its base models' cells), and the search behind it: what was read,
what could not be, and which links were only mentions. Pure data and small pure functions.

A cell with no public source is level 1 (not found) only when the search for it was complete:
the card read, every own link read, every own paper's page read. Otherwise it is Unknown, with the
gap as its reason: an own link that leads nowhere (gone, moved without a target) included.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

OWN, MENTION, GUESS, PAPER = "own", "mention", "guess", "paper"
# Failures that leave a link open: a host the crawl cannot read may hold what the card points at.
# Every other failure that is not transient settles it (nothing is there to read: 404, a bad id).
UNREAD_FAILURES = frozenset({"unsupported_host"})
READABLE_CARDS = frozenset({"ok", "no_metadata", "invalid_metadata"})


@dataclass
class Repo:
    """A code repository a model links, with what following the link found."""
    target: str
    status: str                                    # resolved, failed, deferred, pending
    link_roles: list[str] = field(default_factory=list)   # from the card's words around the link
    roles: list[str] = field(default_factory=list)        # from the repo's own files
    licence_ids: list[str] = field(default_factory=list)
    host_licence: str | None = None
    finding_id: str | None = None
    evidence: list[dict] = field(default_factory=list)
    relevance: str = OWN                           # own, mention, guess (by name in the author's org), paper
    why: str | None = None                         # what made it own or a mention
    reason: str | None = None                      # why following it failed
    transient: bool = False
    model_licences: list[str] = field(default_factory=list)   # its MODEL_LICENSE-like files' licences
    covers_models: dict | None = None              # its README: the licence covers the models too (evidence)
    fallback_roles: list[str] = field(default_factory=list)   # roles guessed for code nothing else explains
    documents: dict = field(default_factory=dict)  # path -> findings of its model documents (doc_findings)
    linked_paths: list[str] = field(default_factory=list)     # what the card points at inside it

    @property
    def counts(self) -> bool:
        """It can open a component: the model's own (or its paper's, or found by name), and read."""
        return self.relevance != MENTION and self.status == "resolved"

    @property
    def settled(self) -> bool:
        return self.status == "resolved" or (self.status == "failed" and not self.transient
                                              and self.reason not in UNREAD_FAILURES)


@dataclass
class Paper:
    """An arXiv paper a model cites, and whether its Hub page was read."""
    paper_id: str
    relevance: str
    status: str = "pending"                        # the link target's status
    reason: str | None = None
    transient: bool = False
    hub_page: str | None = None                    # read, not_on_hub, failed
    github_repo: str | None = None

    @property
    def settled(self) -> bool:
        """Its Hub page was read (or the Hub has none): what it says of code is known, whatever
        became of the abstract page."""
        return self.hub_page in ("read", "not_on_hub") or self.status == "resolved" or (
            self.status == "failed" and not self.transient)


@dataclass
class Dossier:
    model_id: str
    sha: str
    info: dict = field(default_factory=dict)       # tags, pipeline_tag, library_name
    findings: list[dict] = field(default_factory=list)  # {finding_id, signal, value, confidence, evidence}
    repos: list[Repo] = field(default_factory=list)
    dataset_licences: dict[str, list[str]] = field(default_factory=dict)  # linked dataset id -> its licence ids
    bases: dict[str, dict] = field(default_factory=dict)     # base id -> its cells (when known)
    has_card: bool = True                          # the repo has a README (a model card)
    card_status: str = "ok"
    papers: list[Paper] = field(default_factory=list)

    _by_signal: dict | None = field(default=None, repr=False, compare=False)
    _searches: dict = field(default_factory=dict, repr=False, compare=False)  # (kind, training) -> search_record
    _gaps: list | None = field(default=None, repr=False, compare=False)          # code_gaps, once made
    named_stages: frozenset | None = field(default=None, repr=False, compare=False)  # engine.named_stages

    def of(self, signal: str) -> list[dict]:
        """Findings of one signal (indexed once: the rules ask for signals dozens of times)."""
        index = self._by_signal
        if index is None:
            index = self._by_signal = {}
            for finding in self.findings:
                index.setdefault(finding["signal"], []).append(finding)
        return index.get(signal) or []

    @property
    def card_read(self) -> bool:
        return self.has_card and self.card_status in READABLE_CARDS


def build_dossier(model_id: str, sha: str, info: dict, findings: list[dict], followed: dict[str, dict],
                  paper_repos: dict[str, str], dataset_licences: dict[str, list[str]], bases: dict[str, dict],
                  card_status: str, papers: list[Paper]) -> Dossier:
    """The one way a dossier is made (classification and the classify cases alike): the model's
    findings, the repos its links and own papers name with what following each found, and the
    findings of their model documents as if the card said them."""
    repos = linked_repos(findings, followed, paper_repos)
    return Dossier(model_id, sha, info, findings + document_findings(repos), repos, dataset_licences, bases,
                   card_status != "no_readme", card_status, papers)


def dossier_from_rows(model_id: str, sha: str, rows: dict[str, list[dict]], bases: dict[str, dict]) -> Dossier:
    """A dossier from the warehouse's rows of a model commit: per input (inputs.py), its rows as
    dicts of the declared fields, JSON fields decoded. Reads those fields and no others (a test
    holds it to the declaration)."""
    info = next(iter(rows.get("info") or ()), None)
    model_info = {"tags": info["tags"] or [], "pipeline_tag": info["pipeline_tag"],
                  "library_name": info["library_name"]} if info else {}
    findings = [{"finding_id": f["finding_id"], "signal": f["signal"], "value": f["value"],
                 "confidence": f["confidence"], "evidence": f["evidence"]} for f in rows.get("findings") or ()]
    repos = rows.get("repos") or ()
    papers = [Paper(p["target"], p["relevance"], p["status"], p["reason"], p["transient"], p["hub_page"], p["github_repo"])
              for p in rows.get("papers") or ()]
    return build_dossier(model_id, sha, model_info, findings, {r["target"]: repo_facts(r) for r in repos},
                         {r["target"]: r["paper"] for r in repos if r["paper"] is not None},
                         {d["target"]: list(d["licence_ids"]) for d in rows.get("datasets") or ()}, bases,
                         (info["card_status"] or "ok") if info else "no_readme", papers)


def repo_facts(row: dict) -> dict:
    """A followed code repo's row (inputs.REPOS, JSON decoded) as the facts a dossier takes."""
    return {"status": row["status"], "reason": row["reason"], "transient": row["transient"],
            "roles": row["roles"] or [], "licence_ids": row["licence_ids"] or [], "host_licence": row["host_licence"],
            "role_evidence": _role_evidence(row["role_evidence"] or []),
            **_repo_licence_facts(row["licence_findings"] or []), "documents": row["doc_findings"] or {}}


def _role_evidence(evidence: list[dict]) -> list[dict]:
    """The repo's role evidence as evidence entries (path, line, snippet), for the cells it supports."""
    return [{"path": e["path"], "line_start": e.get("line_start"), "snippet": e["snippet"], "role": e["role"],
             **({"source": e["source"]} if e.get("source") == "fallback" else {})}
            for e in evidence]


def _repo_licence_facts(findings: list[dict]) -> dict:
    """From a repo's licence findings: the licences of its model licence files, and its README's
    statement that its licence covers the models too. A model licence file at the root covers the
    repo's models; one deeper (projects/<model>/) covers the models of its folder: the repo's
    models only when it is the repo's one such file."""
    scoped = [(f["value"].get("path") or "", f["value"]["id"]) for f in findings if f.get("signal") == "licence.identified"
              and f["value"].get("scope") == "model" and f["value"].get("id")]
    root = [licence for path, licence in scoped if "/" not in path]
    nested = {path for path, _ in scoped if "/" in path}
    model_licences = sorted(set(root or ([licence for _, licence in scoped] if len(nested) == 1 else [])))
    covers = next(({"statement": f["value"].get("statement"), "evidence": f.get("evidence")} for f in findings
                   if f.get("signal") == "licence.covers_models"), None)
    return {"model_licences": model_licences, "covers_models": covers}


def code_gaps(dossier: Dossier) -> list[str]:
    """What keeps the search for code incomplete: the card unread, an own link not read (not
    settled yet, or leading nowhere), an own paper's page not settled. Made once per dossier, and
    shared by the cells that show it."""
    if dossier._gaps is None:
        dossier._gaps = _code_gaps(dossier)
    return dossier._gaps


def _code_gaps(dossier: Dossier) -> list[str]:
    """An own link that failed for good (gone, moved without a target, a bad name) is a gap too:
    the developers said their code is there, and nothing tells what it held, whatever the card's
    words around it say it is for (a training repo may hold the evaluation code)."""
    gaps = [] if dossier.card_read else [f"the model card could not be read ({dossier.card_status})"]
    for repo in dossier.repos:
        if repo.relevance not in (OWN, PAPER) or repo.status == "resolved":
            continue
        if not repo.settled:
            gaps.append(f"{repo.target}: {repo.status}" + (f" ({repo.reason})" if repo.reason else ""))
        else:
            gaps.append(f"{repo.target}: an own link that leads nowhere ({repo.reason or repo.status})")
    for paper in dossier.papers:
        if paper.relevance == OWN and not paper.settled:
            gaps.append(f"{paper.paper_id}: paper page {paper.status}" + (f" ({paper.reason})" if paper.reason else ""))
    return gaps


def search_record(dossier: Dossier, kind: str, training: bool = False) -> dict:
    """What was searched for a component of this kind (code or data): shown with a not-found or
    Unknown cell, so an auditor sees what "nothing releases it" rests on. Made once per dossier and
    kind, and shared by the cells that show it: a cell that adds to it takes a copy."""
    made = dossier._searches
    if (kind, training) not in made:
        made[(kind, training)] = _search_record(dossier, kind, training)
    return made[(kind, training)]


def _search_record(dossier: Dossier, kind: str, training: bool) -> dict:
    record: dict = {"card": "read" if dossier.card_read else
                    ("no README" if not dossier.has_card else f"unreadable ({dossier.card_status})")}
    if kind == "code":
        record["links"] = [{"target": r.target, "relevance": r.relevance, "status": r.status, "roles": r.roles,
                            **({"reason": r.reason} if r.reason else {})}
                           for r in dossier.repos if r.relevance != MENTION]
        record["papers"] = [{"paper": p.paper_id, "hub_page": p.hub_page or p.status,
                             **({"code": p.github_repo} if p.github_repo else {})}
                            for p in dossier.papers if p.relevance == OWN]
        record["mentions"] = [{"target": r.target, "why": r.why} for r in dossier.repos if r.relevance == MENTION]
    else:
        record["datasets"] = sorted(dossier.dataset_licences)
        excluded = dossier.of("data.excluded") if training else []
        if excluded:
            record["excluded"] = [{"corpus": f["value"].get("name"), "why": f["value"].get("statement")} for f in excluded]
    return record


def linked_repos(findings: list[dict], followed: dict[str, dict], paper_repos: dict[str, str] | None = None) -> list[Repo]:
    """The code repos a model's code.link and code.guess findings name, and its own papers' code
    (`paper_repos`: target -> paper id), with what following each one found (`followed`: target ->
    {status, roles, licence_ids, host_licence, role_evidence, reason, transient, ...}); a link not
    followed yet is 'pending'."""
    repos, seen = [], set()
    for finding in findings:
        if finding["signal"] not in ("code.link", "code.guess"):
            continue
        value = finding["value"]
        target = f"{value.get('host', '')}/{value.get('repo', '')}".lower()
        if target in seen:
            continue
        seen.add(target)
        relevance = GUESS if finding["signal"] == "code.guess" else str(value.get("relevance") or OWN)
        repo = _repo(target, followed.get(target, {}), relevance, value.get("why"), list(value.get("roles") or []),
                     finding["finding_id"], list(finding["evidence"]))
        repo.linked_paths = [p for p in value.get("paths") or [] if isinstance(p, str)]
        repos.append(repo)
    for target, paper in sorted((paper_repos or {}).items()):
        if target not in seen:
            seen.add(target)
            repos.append(_repo(target, followed.get(target, {}), PAPER, f"the code of the model's paper {paper}", [],
                               None, [{"snippet": f"{paper}: the Hub's paper page names {target} as its code"}]))
    return repos


def _repo(target: str, facts: dict, relevance: str, why: str | None, link_roles: list[str], finding_id: str | None,
          evidence: list[dict]) -> Repo:
    role_evidence = list(facts.get("role_evidence") or [])
    fallback = sorted({e["role"] for e in role_evidence if e.get("source") == "fallback"})
    return Repo(target, facts.get("status", "pending"), link_roles, list(facts.get("roles") or []),
                list(facts.get("licence_ids") or []), facts.get("host_licence"), finding_id, evidence + role_evidence,
                relevance, why, facts.get("reason"), bool(facts.get("transient")), list(facts.get("model_licences") or []),
                facts.get("covers_models"), fallback, dict(facts.get("documents") or {}))


def document_findings(repos: list[Repo]) -> list[dict]:
    """Findings of the model documents its developers keep in their own repositories: the ones its
    card links (examples/<model>/model_card.md) and the repos' root model cards, as if the card said
    them, with evidence pointing at the document."""
    out = []
    for repo in repos:
        if not repo.counts or repo.relevance not in (OWN, PAPER):
            continue
        for path, findings in sorted(repo.documents.items()):
            linked = "/" not in path or any(path == p or path.startswith(p.rstrip("/") + "/") for p in repo.linked_paths)
            if not linked:
                continue
            for finding in findings:
                key = json.dumps([repo.target, path, finding["signal"], finding["value"]], sort_keys=True, default=str)
                evidence = [{**e, "path": f"{repo.target}/{path}"} for e in finding.get("evidence") or []]
                out.append({"finding_id": hashlib.sha1(key.encode()).hexdigest()[:20], "signal": finding["signal"],
                            "value": finding["value"], "confidence": round(finding["confidence"] * 0.9, 3),
                            "evidence": evidence})
    return out
