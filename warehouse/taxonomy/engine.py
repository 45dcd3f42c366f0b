"""The taxonomy engine: one model's dossier (its findings, what its links led to, its base models'
classifications) in, twelve cells out. Pure: no database, no network, so the rules are tested
from cases and re-run over any warehouse.

Rules a careful auditor applies (README, "Classification"): only code the developers released
counts for training (their repo's own code, the repos the card links); a library that runs the
model is inference code and nothing more; licences bind along base_model chains; of several
licences the most restrictive decides and all stay visible; "stated closed" (level 1) is kept
apart from "no evidence" (Unknown); gated weights are public, and the gate is recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from extractors.knowledge import lookup
from warehouse.taxonomy.rules import Component, Rules

UNKNOWN, NOT_APPLICABLE = "Unknown", "N/A"


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


@dataclass
class Dossier:
    model_id: str
    sha: str
    info: dict = field(default_factory=dict)       # tags, pipeline_tag, library_name
    findings: list[dict] = field(default_factory=list)  # {finding_id, signal, value, confidence, evidence}
    repos: list[Repo] = field(default_factory=list)
    dataset_licences: dict[str, list[str]] = field(default_factory=dict)  # linked dataset id -> its licence ids
    bases: dict[str, dict[str, "Cell"]] = field(default_factory=dict)     # base id -> its cells (when known)
    has_card: bool = True                          # the repo has a README (a model card)

    def of(self, signal: str) -> list[dict]:
        """Findings of one signal (indexed once: the rules ask for signals dozens of times)."""
        index = self.__dict__.get("_by_signal")
        if index is None:
            index = self.__dict__["_by_signal"] = {}
            for finding in self.findings:
                index.setdefault(finding["signal"], []).append(finding)
        return index.get(signal, [])


@dataclass
class Cell:
    component: str
    level: int | None          # 1-5; None for N/A and Unknown
    label: str                 # C1-C5, D1-D5, N/A or Unknown
    reason: str                # licence, stated_closed, api_only, no_evidence, no_stage, licence_unknown, inherited, ...
    licences: list[dict] = field(default_factory=list)  # every licence in play: {id, points, source}
    points: int | None = None  # the deciding (lowest) rubric points
    confidence: float = 0.0
    finding_ids: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    inherited_from: str | None = None


@dataclass
class Source:
    """One public thing that counts for a component: where it is and under which licence."""
    what: str
    licence: str | None        # a knowledge-base id, 'none' (no licence: all rights reserved) or None (unknown)
    confidence: float
    finding_id: str | None
    evidence: list[dict]


def classify(dossier: Dossier, rules: Rules) -> dict[str, Cell]:
    relation = _relation(dossier)
    cells: dict[str, Cell] = {}
    for component in rules.components:
        cells[component.key] = _cell(component, dossier, rules, relation)
    return cells


def _cell(component: Component, dossier: Dossier, rules: Rules, relation: str | None) -> Cell:
    derivative = bool(dossier.bases) or relation is not None
    if component.stage and derivative and (component.inherit or relation in rules.inherit_all_training):
        return _inherited(component, dossier)
    if component.weights:
        return _weights(component, dossier, rules)
    sources = _code_sources(component, dossier, rules) if component.kind == "code" else _data_sources(component, dossier, rules)
    if sources:
        return _from_sources(component, sources, rules)
    if component.stage:
        if not _had_stage(component.stage, dossier, rules, relation):
            # no stage of its own: a derivative carries its base's (an aligned base stays aligned)
            if derivative:
                return _inherited(component, dossier)
            return Cell(component.key, None, NOT_APPLICABLE, "no_stage", confidence=0.6)
        closed = _stated_closed(component, dossier)
        if closed:
            return closed
    return _unknown(component, dossier)


# -- code ------------------------------------------------------------------------------------

def _code_sources(component: Component, dossier: Dossier, rules: Rules) -> list[Source]:
    sources = []
    for repo in dossier.repos:
        own = set(component.roles) & set(repo.roles)
        said = set(component.roles) & set(repo.link_roles)
        if repo.status != "resolved" or not (own or said):
            continue
        licence = repo.licence_ids[0] if len(repo.licence_ids) == 1 else _most_restrictive(repo.licence_ids)
        if licence is None and repo.host_licence and lookup(repo.host_licence):
            licence = lookup(repo.host_licence).id
        if licence is None and not repo.licence_ids and not repo.host_licence:
            licence = "none"
        evidence = [e for e in repo.evidence if e.get("role") in (None, *component.roles)]  # this role's only
        sources.append(Source(repo.target, licence, 0.9 if own else 0.7, repo.finding_id, evidence))
    if component.custom_code:
        for finding in dossier.of("code.custom"):  # the repo's own code, under the repo's licence
            for licence, _ in _model_licences(dossier):
                sources.append(Source("custom code in the model repo", licence, 0.9, finding["finding_id"],
                                      finding["evidence"]))
    if component.libraries:
        for finding in dossier.of("code.library"):
            library = str(finding["value"].get("library", ""))
            if library in rules.libraries:
                sources.append(Source(f"library {library}", rules.libraries[library], 0.6, finding["finding_id"],
                                      finding["evidence"]))
    if component.harnesses:
        for finding in dossier.of("eval.harness"):
            harness = finding["value"].get("id")
            if harness in rules.harnesses:
                sources.append(Source(f"harness {harness}", rules.harnesses[harness], 0.6, finding["finding_id"],
                                      finding["evidence"]))
    return sources


# -- data ------------------------------------------------------------------------------------

def _data_sources(component: Component, dossier: Dossier, rules: Rules) -> list[Source]:
    if component.evaluations:
        return _evaluation_sources(component, dossier, rules)
    default_stage = "sft" if dossier.bases or _relation(dossier) else "pretraining"
    sources, named = [], set()
    for finding in dossier.of("data.card_datasets"):
        for item in finding["value"] if isinstance(finding["value"], list) else []:
            if (item.get("stage") or default_stage) != component.stage:
                continue
            named.add(item.get("corpus") or item["id"])
            licences = dossier.dataset_licences.get(item["id"]) or ([item["licence"]] if item.get("licence") else [None])
            confidence = 0.9 if item.get("stage") else 0.6
            for licence in licences:
                sources.append(Source(f"dataset {item['id']}", licence, confidence, finding["finding_id"],
                                      finding["evidence"]))
    for finding in dossier.of("data.corpus"):
        value = finding["value"]
        if value.get("stage") == component.stage and value.get("corpus") not in named:
            named.add(value.get("corpus"))
            sources.append(Source(f"corpus {value.get('name') or value.get('corpus')}", value.get("licence"), 0.7,
                                  finding["finding_id"], finding["evidence"]))
    return sources


def _evaluation_sources(component: Component, dossier: Dossier, rules: Rules) -> list[Source]:
    sources = []
    for kind in component.evaluations:
        for finding in dossier.of("eval.benchmark" if kind == "general" else "eval.safety"):
            benchmark = finding["value"].get("id")
            if benchmark in rules.benchmarks:
                sources.append(Source(f"benchmark {benchmark}", rules.benchmarks[benchmark], 0.7,
                                      finding["finding_id"], finding["evidence"]))
    return sources


def _stated_closed(component: Component, dossier: Dossier) -> Cell | None:
    statements = [f for f in dossier.of("data.nondisclosure") if f["value"].get("kind") in ("not_released", "proprietary")]
    if component.kind != "data" or not statements:
        return None
    return Cell(component.key, 1, "D1", "stated_closed", confidence=min(f["confidence"] for f in statements),
                finding_ids=[f["finding_id"] for f in statements], evidence=_evidence(statements))


# -- weights ---------------------------------------------------------------------------------

def _weights(component: Component, dossier: Dossier, rules: Rules) -> Cell:
    withheld = dossier.of("weights.withheld")
    if withheld:
        api = "api" in str(withheld[0]["value"].get("statement", "")).lower()
        return Cell(component.key, 2 if api else 1, "D2" if api else "D1", "api_only" if api else "stated_closed",
                    confidence=withheld[0]["confidence"], finding_ids=[withheld[0]["finding_id"]],
                    evidence=_evidence(withheld))
    release = dossier.of("weights.release")
    if not release or release[0]["value"] == "none":
        return _unknown(component, dossier)
    sources = [Source("the model's licence", licence, 1.0, finding and finding["finding_id"],
                      finding["evidence"] if finding else []) for licence, finding in _model_licences(dossier)]
    for base, cells in dossier.bases.items():  # terms that bind derivatives come along the chain
        for licence in cells.get(component.key, Cell("", None, "", "")).licences:
            known = lookup(licence["id"]) if licence.get("id") else None
            if known and not known.rubric["other_license_derivative"].allowed:
                sources.append(Source(f"base model {base}", known.id, 0.9, None, []))
    cell = _from_sources(component, sources, rules)
    cell.finding_ids += [f["finding_id"] for f in release + dossier.of("weights.gating")]
    gate = dossier.of("weights.gating")
    if gate and gate[0]["value"].get("mode") not in (None, "none"):
        cell.reason += f"; gated ({gate[0]['value']['mode']})"  # public behind a gate: still public
        cell.evidence += gate[0]["evidence"]
    return cell


# -- shared ----------------------------------------------------------------------------------

def _from_sources(component: Component, sources: list[Source], rules: Rules) -> Cell:
    licences, seen = [], set()
    for source in sources:
        points = _points(source.licence)
        key = (source.licence, source.what)
        if key not in seen:
            seen.add(key)
            licences.append({"id": source.licence, "points": points, "source": source.what})
    known = [l["points"] for l in licences if l["points"] is not None]
    finding_ids = list(dict.fromkeys(s.finding_id for s in sources if s.finding_id))
    evidence = _unique([e for s in sources for e in s.evidence])
    confidence = max(s.confidence for s in sources)
    if not known:
        return Cell(component.key, None, UNKNOWN, "licence_unknown", licences, None, confidence * 0.5, finding_ids, evidence)
    points = min(known)
    level = rules.level(component.kind, points)
    if len(known) < len(licences):
        confidence *= 0.8  # some licence in play could not be read: it might decide
    return Cell(component.key, level, _label(component, level), "licence", licences, points, round(confidence, 3),
                finding_ids, evidence)


def _inherited(component: Component, dossier: Dossier) -> Cell:
    known = [(base, cells[component.key]) for base, cells in dossier.bases.items() if component.key in cells]
    if not known:
        return Cell(component.key, None, UNKNOWN, "base_unknown", confidence=0.5,
                    evidence=[{"snippet": f"base models: {', '.join(sorted(dossier.bases)) or 'not in the warehouse'}"}])
    # of several bases (a merge): a stage one of them had applies; then Unknown when any is
    # unknown, else the least open decides
    applies = [(b, c) for b, c in known if c.label != NOT_APPLICABLE] or known
    undecided = [(b, c) for b, c in applies if c.level is None]
    base, cell = undecided[0] if undecided else min(applies, key=lambda item: item[1].level)
    return Cell(component.key, cell.level, cell.label, "no_stage" if cell.label == NOT_APPLICABLE else "inherited",
                [dict(l) for l in cell.licences], cell.points, round(cell.confidence * 0.9, 3), list(cell.finding_ids),
                list(cell.evidence), inherited_from=cell.inherited_from or base)


def _unknown(component: Component, dossier: Dossier) -> Cell:
    vague = [f for f in dossier.of("data.disclosure") if f["value"].get("status") == "vague"]
    if component.kind == "data" and component.stage and vague:
        return Cell(component.key, None, UNKNOWN, "vague", confidence=0.7, finding_ids=[vague[0]["finding_id"]],
                    evidence=_evidence(vague))
    failed = [r for r in dossier.repos if r.status != "resolved" and set(component.roles) & set(r.link_roles)]
    if failed:
        return Cell(component.key, None, UNKNOWN, "link_unresolved", confidence=0.6,
                    finding_ids=[r.finding_id for r in failed if r.finding_id], evidence=[e for r in failed for e in r.evidence])
    return Cell(component.key, None, UNKNOWN, "no_evidence", confidence=0.5)


def _had_stage(stage: str, dossier: Dossier, rules: Rules, relation: str | None) -> bool:
    if stage == "pretraining":
        return True
    if stage == "sft" and relation in ("finetune", "adapter"):
        return True
    names = " ".join([dossier.model_id] + [t for t in dossier.info.get("tags") or [] if isinstance(t, str)])
    return bool(rules.stage_words[stage].search(names.replace("/", " ")))


def _relation(dossier: Dossier) -> str | None:
    base = dossier.of("weights.base_model")
    return base[0]["value"].get("relation") if base else None


def _model_licences(dossier: Dossier) -> list[tuple[str | None, dict | None]]:
    """(licence id or None when unknown, the finding that says it) for the model's own licence: the
    card's tag (each part of an expression), or its license_name when the tag is just 'other'."""
    found: list[tuple[str | None, dict | None]] = []
    for finding in dossier.of("licence.declared"):
        for item in finding["value"] if isinstance(finding["value"], list) else []:
            found += [(part.get("id"), finding) for part in item.get("parts") or [item]]
    named = [(f["value"].get("id"), f) for f in dossier.of("licence.name") if f["value"].get("id")]
    if named and all(licence in (None, "other") for licence, _ in found):
        return named
    specific = [(licence, f) for licence, f in found if licence != "other"]
    return specific or found or [(None, None)]


def _points(licence: str | None) -> int | None:
    if licence == "none":
        return 0  # public without a licence: all rights reserved
    known = lookup(licence) if licence else None
    return known.points if known and known.id not in ("other", "unknown") else None


def _most_restrictive(ids: list[str]) -> str | None:
    scored = [(p, i) for i in ids if (p := _points(i)) is not None]
    return min(scored)[1] if scored else None


def _label(component: Component, level: int) -> str:
    return f"{'C' if component.kind == 'code' else 'D'}{level}"


def _evidence(findings: list[dict]) -> list[dict]:
    return _unique([e for f in findings for e in f["evidence"]])


def _unique(evidence: list[dict]) -> list[dict]:
    seen, out = set(), []
    for entry in evidence:
        key = (entry.get("url"), entry.get("path"), entry.get("line_start"), entry.get("snippet"))
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def summary(cells: dict[str, Cell]) -> dict:
    levels = [c.level for c in cells.values()]
    return {"fully_open": levels.count(5), "semi_open": sum(1 for l in levels if l in (2, 3, 4)),
            "closed": levels.count(1), "unknown": sum(1 for c in cells.values() if c.label == UNKNOWN),
            "not_applicable": sum(1 for c in cells.values() if c.label == NOT_APPLICABLE)}


def linked_repos(findings: list[dict], followed: dict[str, dict]) -> list[Repo]:
    """The code repos a model's code.link findings name, with what following each one found
    (`followed`: target -> {status, roles, licence_ids, host_licence, role_evidence}); a link not
    followed yet is 'pending'."""
    repos = []
    for finding in findings:
        if finding["signal"] != "code.link":
            continue
        value = finding["value"]
        target = f"{value.get('host', '')}/{value.get('repo', '')}".lower()
        facts = followed.get(target, {})
        repos.append(Repo(target, facts.get("status", "pending"), list(value.get("roles") or []),
                          list(facts.get("roles") or []), list(facts.get("licence_ids") or []),
                          facts.get("host_licence"), finding["finding_id"],
                          list(finding["evidence"]) + list(facts.get("role_evidence") or [])))
    return repos
