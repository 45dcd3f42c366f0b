"""The taxonomy engine: one model's dossier (its findings, what its own links and papers led to,
its base models' cells) in, twelve cells out. Pure: no database, no network, so the rules are
tested from cases and re-run over any warehouse.

Rules a careful auditor applies (docs/classification.md): only what the developers released
counts (their repo's own files, the repos and papers the card presents as its own; a comparison, a
library used or a citation is a mention and opens nothing); a library that runs the model is
inference code and nothing more; licences bind along base_model chains; of several licences the
most restrictive decides and all stay visible; a component nothing releases is level 1, "not
found" when the search was complete and "stated closed" when the card says so, and Unknown when
the search could not be completed; gated weights are public, and the gate is recorded.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from openness.extractors.evaluation import benchmark_of
from openness.extractors.knowledge import corpora, corpus_by_hub_id, lookup
from openness.classification.taxonomy.dossier import GUESS, PAPER, Dossier, Paper, Repo, code_gaps, linked_repos, search_record
from openness.classification.taxonomy.rules import Component, Rules

UNKNOWN, NOT_APPLICABLE = "Unknown", "N/A"
CLOSED_DATA = ("not_released", "proprietary")

__all__ = ["Cell", "Dossier", "Paper", "Repo", "classify", "linked_repos", "summary", "NOT_APPLICABLE", "UNKNOWN"]


@dataclass
class Cell:
    component: str
    level: int | None          # 1-5; None for N/A and Unknown
    label: str                 # C1-C5, D1-D5, N/A or Unknown
    reason: str                # licence, not_found, stated_closed, api_only, inherited, no_stage, licence_unknown,
    #                            licence_unread, ...
    licences: list[dict] = field(default_factory=list)  # every licence in play: {id, points, source}
    points: int | None = None  # the deciding (lowest) rubric points
    confidence: float = 0.0
    finding_ids: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    inherited_from: str | None = None
    search: dict | None = None  # what was searched, for a not-found or Unknown cell


@dataclass
class Source:
    """One public thing that counts for a component: where it is and under which licence."""
    what: str
    licence: str | None        # a knowledge-base id, 'none' (no licence: all rights reserved) or None (unknown)
    confidence: float
    finding_id: str | None
    evidence: list[dict]
    released: bool = True      # False: where the data came from, not the data (a filtered subset of it)
    unread: bool = False       # a licence file of the repo not read (yet): its terms are not known


def classify(dossier: Dossier, rules: Rules) -> dict[str, Cell]:
    relation = _relation(dossier)
    return {component.key: _cell(component, dossier, rules, relation) for component in rules.components}


def _cell(component: Component, dossier: Dossier, rules: Rules, relation: str | None) -> Cell:
    derivative = bool(dossier.bases) or relation is not None
    if component.stage and derivative and (component.inherit or relation in rules.inherit_all_training):
        return _inherited(component, dossier)
    if component.weights:
        return _weights(component, dossier, rules)
    if component.stage and not _had_stage(component.stage, dossier, rules, relation):
        # no stage of its own: a derivative carries its base's (an aligned base stays aligned), a
        # base has none, whatever data or code its card names for a stage it never had
        return _inherited(component, dossier) if derivative else \
            Cell(component.key, None, NOT_APPLICABLE, "no_stage", confidence=0.6)
    code = component.kind == "code"
    sources = _code_sources(component, dossier, rules) if code else _data_sources(component, dossier, rules)
    closed = _stated_closed(component, dossier) or (_described_only(component, dossier) if sources else None) \
        or _derived_only(component, dossier, sources)
    if closed and not code and sources:
        # a data mix with a part that is not released: the whole is not released, its public parts stay visible
        closed.licences = _from_sources(component, sources, rules).licences
        return closed
    if sources:
        if closed:  # the card says the code is not released, and a repo of the developers' holds it
            return Cell(component.key, None, UNKNOWN, "contradiction", confidence=0.4, finding_ids=closed.finding_ids,
                        evidence=closed.evidence + _unique([e for s in sources for e in s.evidence])[:3])
        return _from_sources(component, sources, rules)
    if closed:
        return closed
    return _not_found(component, dossier)


# -- code ------------------------------------------------------------------------------------

def _code_sources(component: Component, dossier: Dossier, rules: Rules) -> list[Source]:
    sources = []
    for repo in dossier.repos:
        own = set(component.roles) & set(repo.roles)
        said = set(component.roles) & set(repo.link_roles)
        if not repo.counts or not (own or said):
            continue
        confidence = (0.9 if own else 0.7) * (0.6 if repo.relevance == GUESS else 1.0)
        if own and own <= set(repo.fallback_roles):
            confidence *= 0.7  # the repo's most likely role, not one its files show
        evidence = [e for e in repo.evidence if e.get("role") in (None, *component.roles)]  # this role's only
        what = {GUESS: f"{repo.target} (found by name in the author's GitHub organisation)",
                PAPER: f"{repo.target} ({repo.why})"}.get(repo.relevance, repo.target)
        sources.append(Source(what, _repo_licence(repo), round(confidence, 3), repo.finding_id, evidence))
    if component.custom_code:
        for finding in dossier.of("code.custom"):  # the repo's own code, under the repo's licence
            for licence, _, said in _model_licences(dossier):
                sources.append(Source("custom code in the model repo", licence, 0.9, finding["finding_id"],
                                      finding["evidence"], unread=_is_unread(said)))
    for finding in dossier.of("code.scripts"):  # scripts shipped with the weights, under the repo's licence
        if set(_script_roles(finding, dossier)) & set(component.roles):
            for licence, _, said in _model_licences(dossier):
                sources.append(Source("scripts in the model repo", licence, 0.8, finding["finding_id"],
                                      finding["evidence"], unread=_is_unread(said)))
    if component.libraries:
        for library, finding in _runners(dossier, rules):
            sources.append(Source(f"library {library}", rules.libraries[library], 0.6, finding["finding_id"],
                                  finding["evidence"]))
    if component.harnesses:
        for finding in dossier.of("eval.harness"):
            harness = finding["value"].get("id")
            if harness in rules.harnesses:
                sources.append(Source(f"harness {harness}", rules.harnesses[harness], 0.6, finding["finding_id"],
                                      finding["evidence"]))
    return sources


def _script_roles(finding: dict, dossier: Dossier) -> list[str]:
    """The roles a model repo's scripts show; a fine-tune's training script is its fine-tuning code
    (its pre-training is its base's)."""
    shown = finding["value"].get("roles")
    roles = list(shown) if isinstance(shown, dict) else []
    if _relation(dossier) in ("finetune", "adapter") and "pretraining" in roles:
        roles.append("finetuning")
    return roles


def _runners(dossier: Dossier, rules: Rules) -> list[tuple[str, dict]]:
    """The libraries that run the model, with the finding that says so: the runtime of its weights'
    format when every weight file is of a format only its own runtime loads (a GGUF copy runs on
    llama.cpp, whatever library_name it copied from its source), else the card's library_name."""
    formats = dossier.of("weights.formats")
    kinds = formats[0]["value"] if formats and isinstance(formats[0]["value"], list) else []
    named = [(str(f["value"].get("library", "")), f) for f in dossier.of("code.library")]
    if kinds and all(k in rules.runtimes for k in kinds):
        runtimes = sorted({rules.runtimes[k] for k in kinds})
        return [(r, formats[0]) for r in runtimes if r not in {n for n, _ in named}] + \
            [(n, f) for n, f in named if n in runtimes]
    return [(n, f) for n, f in named if n in rules.libraries]


def _repo_licence(repo: Repo) -> str | None:
    licence = repo.licence_ids[0] if len(repo.licence_ids) == 1 else _most_restrictive(repo.licence_ids)
    if licence is None and repo.host_licence and lookup(repo.host_licence):
        licence = lookup(repo.host_licence).id
    if licence is None and not repo.licence_ids and not repo.host_licence:
        licence = "none"  # public without a licence: all rights reserved
    return licence


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
            confidence = 0.9 if item.get("stage") else 0.6
            for licence, source in _dataset_licences(dossier, item):
                sources.append(Source(source, licence, confidence, finding["finding_id"], finding["evidence"]))
    for finding in dossier.of("data.corpus"):
        value = finding["value"]
        if value.get("stage") == component.stage and value.get("corpus") not in named:
            named.add(value.get("corpus"))
            name, derived = value.get("name") or value.get("corpus"), value.get("derived")
            what = f"corpus {name}" + (f" (only the source of the data: '{derived}')" if derived else "")
            sources.append(Source(what, value.get("licence"), 0.7, finding["finding_id"], finding["evidence"],
                                  released=not derived))
    return sources


def _dataset_licences(dossier: Dossier, item: dict) -> list[tuple[str | None, str]]:
    """(licence, source) of a dataset the card lists: what its Hub repo says, unless that says
    nothing scorable ('other', or the repo could not be read) and the corpus is a known one."""
    stated = [l for l in dossier.dataset_licences.get(item["id"]) or [] if _points(l) is not None]
    if stated:
        return [(licence, f"dataset {item['id']}") for licence in stated]
    if item.get("corpus") and item.get("licence"):
        corpus = next((c for c in corpora() if c.id == item["corpus"]), None)
        why = f"; {corpus.licence_source}" if corpus and corpus.licence_source else ""
        return [(item["licence"], f"dataset {item['id']} (knowledge base: {corpus.name if corpus else item['corpus']}{why})")]
    return [(None, f"dataset {item['id']}")]


def _evaluation_sources(component: Component, dossier: Dossier, rules: Rules) -> list[Source]:
    """The public data the model was evaluated on: the benchmarks its card reports (of the
    component's kind), its model-index results' datasets, and, for utility, the benchmarks of a
    public leaderboard's table appended to the card (never the developers' own safety evaluation)."""
    sources = []
    for kind in component.evaluations:
        signals = ("eval.benchmark", "eval.leaderboard") if kind == "general" else ("eval.safety",)
        for finding in (f for signal in signals for f in dossier.of(signal)):
            benchmark = finding["value"].get("id")
            if benchmark in rules.benchmarks:
                sources.append(Source(f"benchmark {benchmark}", rules.benchmarks[benchmark], 0.7,
                                      finding["finding_id"], finding["evidence"]))
        for finding in dossier.of("eval.model_index"):
            for dataset, licence in _model_index_datasets(finding, kind, dossier, rules):
                sources.append(Source(f"model-index dataset {dataset}", licence, 0.8, finding["finding_id"],
                                      finding["evidence"]))
    return sources


def _model_index_datasets(finding: dict, kind: str, dossier: Dossier, rules: Rules) -> list[tuple[str, str | None]]:
    """(dataset, licence) of the model-index results that are evaluation data of this kind: a
    known benchmark at its licence (a safety one as safety data unless a leaderboard ran it), any
    other dataset at the licence its Hub repo or the corpus knowledge gives, or None."""
    out = {}
    for result in finding["value"] if isinstance(finding["value"], list) else []:
        dataset = result.get("dataset") if isinstance(result, dict) else None
        if not isinstance(dataset, str) or not dataset.strip() or dataset in out:
            continue
        benchmark = benchmark_of(dataset)
        found_kind = "general" if benchmark is None or result.get("leaderboard") else benchmark.kind
        if found_kind != kind:
            continue
        if benchmark is not None:
            out[dataset] = rules.benchmarks.get(benchmark.id)
        else:
            stated = [l for l in dossier.dataset_licences.get(dataset) or [] if _points(l) is not None]
            corpus = corpus_by_hub_id().get(dataset.lower())
            out[dataset] = _most_restrictive(stated) if stated else (corpus.licence if corpus else None)
    return sorted(out.items())


def _stated_closed(component: Component, dossier: Dossier) -> Cell | None:
    """Level 1 because the card says this component is not released (or, for data, that a part
    of it is proprietary or withheld)."""
    if component.kind == "data" and component.stage:
        statements = _data_statements(component, dossier, CLOSED_DATA)
    elif component.kind == "code":
        statements = [f for f in dossier.of("code.nondisclosure") if f["value"].get("role") in component.roles]
    else:
        statements = []
    if not statements:
        return None
    return Cell(component.key, 1, _label(component, 1), "stated_closed",
                confidence=min(f["confidence"] for f in statements), finding_ids=[f["finding_id"] for f in statements],
                evidence=_evidence(statements))


def _described_only(component: Component, dossier: Dossier) -> Cell | None:
    """Level 1, not found: a part of the stage's data that the card describes and nothing releases
    (data another model generated, named nowhere as a dataset)."""
    described = _data_statements(component, dossier, ("generated",))
    if not described:
        return None
    return Cell(component.key, 1, _label(component, 1), "not_found", confidence=0.6,
                finding_ids=[f["finding_id"] for f in described], evidence=_evidence(described),
                search=search_record(dossier, "data", True))


def _derived_only(component: Component, dossier: Dossier, sources: list[Source]) -> Cell | None:
    """Level 1, not found: a part of the stage's data is made from a public corpus (filtered,
    translated, curated from it) and no published copy of it is named: the corpus is where the data
    came from, not a release of it."""
    derived = [s for s in sources if not s.released]
    if not derived:
        return None
    return Cell(component.key, 1, _label(component, 1), "not_found", confidence=0.6,
                finding_ids=[s.finding_id for s in derived if s.finding_id],
                evidence=_unique([e for s in derived for e in s.evidence]), search=search_record(dossier, "data", True))


def _data_statements(component: Component, dossier: Dossier, kinds: tuple[str, ...]) -> list[dict]:
    """The card's statements of these kinds about this training stage's data (none for a component
    that is not a training stage's data)."""
    if component.kind != "data" or not component.stage:
        return []
    return [f for f in dossier.of("data.nondisclosure") if f["value"].get("kind") in kinds
            and f["value"].get("stage", "pretraining") == component.stage]


def _not_found(component: Component, dossier: Dossier) -> Cell:
    """Nothing public releases the component: level 1 when the search was complete, Unknown with
    the gap when it was not. Described but unnamed data ("publicly available sources", data another
    model wrote) is not released either: its sentence is the evidence."""
    kind = "code" if component.kind == "code" else "data"
    search = search_record(dossier, kind, bool(component.stage))
    gaps = code_gaps(dossier) if kind == "code" else ([] if dossier.card_read else ["the model card could not be read"])
    if gaps:
        search = {**search, "gaps": gaps}  # the shared record stays as it is
        reason = "no_card" if not dossier.card_read else "link_unresolved"
        return Cell(component.key, None, UNKNOWN, reason, confidence=0.5, search=search,
                    evidence=[{"snippet": "search incomplete: " + "; ".join(gaps)}])
    described = _data_statements(component, dossier, ("vague", "generated"))
    return Cell(component.key, 1, _label(component, 1), "not_found", confidence=0.7 if described else 0.6,
                finding_ids=[f["finding_id"] for f in described], evidence=_evidence(described), search=search)


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
        return _not_found(component, dossier)
    sources = [Source(source, licence, 1.0 if finding and finding["finding_id"] else 0.7,
                      finding["finding_id"] if finding else None, finding["evidence"] if finding else [],
                      unread=_is_unread(finding))
               for licence, source, finding in _model_licences(dossier)]
    for base, cells in sorted(dossier.bases.items()):  # terms that bind derivatives come along the chain
        for licence in cells.get(component.key, Cell("", None, "", "")).licences:
            known = lookup(licence["id"]) if licence.get("id") else None
            if known and not known.rubric["other_license_derivative"].allowed:
                sources.append(Source(f"base model {base}", known.id, 0.9, None, []))
    cell = _from_sources(component, sources, rules)
    if release[0]["value"] == "stated":
        cell.confidence = round(cell.confidence * 0.8, 3)  # the card says so; no weight file was listed
        cell.evidence += release[0]["evidence"]
    cell.finding_ids += [f["finding_id"] for f in release + dossier.of("weights.gating")]
    gate = dossier.of("weights.gating")
    if gate and gate[0]["value"].get("mode") not in (None, "none"):
        cell.reason += f"; gated ({gate[0]['value']['mode']})"  # public behind a gate: still public
        cell.evidence += gate[0]["evidence"]
    return cell


# Why a licence file was not read, as a cell's licence source says it (repo_files.unread).
_UNREAD_WHY = {"pending": "not read yet: left for the next crawl", "gated": "not readable: behind the gate"}


def _model_licences(dossier: Dossier) -> list[tuple[str | None, str, dict | None]]:
    """The model's own licences (_stated_licences), and beside them each licence file of the repo
    the crawl did not read, as a licence of unknown terms: until it is read, it could be the one
    that decides."""
    stated = _stated_licences(dossier)
    unread = [(None, _unread_source(f["value"]), f) for f in dossier.of("licence.unread")]
    if not unread:
        return stated
    return unread if stated == [(None, "no licence stated", None)] else stated + unread


def _unread_source(value: dict) -> str:
    why = value.get("why")
    return f"licence file {value.get('path')} ({_UNREAD_WHY.get(why, f'not read: {why}')})"


def _is_unread(finding: dict | None) -> bool:
    return bool(finding) and finding.get("signal") == "licence.unread"


def _stated_licences(dossier: Dossier) -> list[tuple[str | None, str, dict | None]]:
    """(licence id or None, where it comes from, the finding that says it) for the model's own
    licence, in an auditor's order: the card's metadata (each part of an expression; its
    license_name when the tag is just 'other'), with the licence files of the repo beside it; else
    the licence the card states in prose; else the model's own code repository's model licence file,
    or its licence where its README says that covers the models."""
    declared = []
    for finding in dossier.of("licence.declared"):
        for item in finding["value"] if isinstance(finding["value"], list) else []:
            declared += [(part.get("id"), finding) for part in item.get("parts") or [item]]
    named = [(f["value"].get("id"), f) for f in dossier.of("licence.name") if f["value"].get("id")]
    specific = [(l, "the card's licence", f) for l, f in declared if l not in (None, "other", "unknown")]
    specific += [(l, "the card's license_name", f) for l, f in named if l not in ("other", "unknown")]
    files = [(f["value"]["id"], f"licence file {f['value'].get('path')}", f) for f in dossier.of("licence.identified")
             if f["value"].get("id") and f["value"]["id"] not in ("other", "unknown")]
    if specific:
        return _unique_licences(specific + [item for item in files if item[0] not in {l for l, _, _ in specific}])
    if files:
        return _unique_licences(files)
    prose = [(item.get("id"), "the card's prose", f) for f in dossier.of("licence.prose")
             for item in f["value"].get("licences") or [] if item.get("id")]
    prose += [(f["value"]["licence"].get("id"), "the card's prose (weights)", f) for f in dossier.of("licence.component")
              if f["value"].get("component") == "weights" and f["value"].get("licence", {}).get("id")]
    if prose:
        return _unique_licences(prose)
    from_repos = _licences_from_own_repos(dossier)
    if from_repos:
        return from_repos
    return [(l, "the card's licence", f) for l, f in declared] or [(None, "no licence stated", None)]


def _licences_from_own_repos(dossier: Dossier) -> list[tuple[str | None, str, dict | None]]:
    found = []
    for repo in dossier.repos:
        if not repo.counts or repo.relevance == GUESS:
            continue
        if repo.model_licences:
            found += [(l, f"{repo.target}: its model licence file", None) for l in repo.model_licences]
        elif repo.covers_models and _repo_licence(repo) not in (None, "none"):
            said = {"finding_id": None, "evidence": [{**e, "path": f"{repo.target}/{e.get('path')}"}
                                                     for e in repo.covers_models.get("evidence") or []]}
            found.append((_repo_licence(repo), f"{repo.target}: its README says its licence covers the models", said))
    return _unique_licences(found)


def _unique_licences(items: list[tuple]) -> list[tuple]:
    seen, out = set(), []
    for licence, source, finding in items:
        if licence not in seen:
            seen.add(licence)
            out.append((licence, source, finding))
    return out


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
    unknown = [s for s in sources if _points(s.licence) is None]
    # could not tell: only because a licence file is not read (yet), or because a licence is unknown
    undecided = "licence_unread" if unknown and all(s.unread for s in unknown) else "licence_unknown"
    if not known:
        return Cell(component.key, None, UNKNOWN, undecided, licences, None, confidence * 0.5, finding_ids, evidence)
    points = min(known)
    level = rules.level(component.kind, points)
    if len(known) < len(licences):
        if level >= 4:  # an unread licence could decide: nothing can be called (nearly) restriction-free
            return Cell(component.key, None, UNKNOWN, undecided, licences, None, round(confidence * 0.5, 3),
                        finding_ids, evidence)
        confidence *= 0.8  # some licence in play could not be read: it could only make it less open
    return Cell(component.key, level, _label(component, level), "licence", licences, points, round(confidence, 3),
                finding_ids, evidence)


def _inherited(component: Component, dossier: Dossier) -> Cell:
    known = sorted((base, cells[component.key]) for base, cells in dossier.bases.items() if component.key in cells)
    if not known:
        return Cell(component.key, None, UNKNOWN, "base_unknown", confidence=0.5,
                    evidence=[{"snippet": f"base models: {', '.join(sorted(dossier.bases)) or 'not in the warehouse'}"}])
    # of several bases (a merge): a stage one of them had applies; then Unknown when any is
    # unknown, else the least open decides
    applies = [(b, c) for b, c in known if c.label != NOT_APPLICABLE] or known
    undecided = [(b, c) for b, c in applies if c.level is None]
    base, cell = undecided[0] if undecided else min(applies, key=lambda item: (item[1].level, item[0]))
    return Cell(component.key, cell.level, cell.label, "no_stage" if cell.label == NOT_APPLICABLE else "inherited",
                [dict(l) for l in cell.licences], cell.points, round(cell.confidence * 0.9, 3), list(cell.finding_ids),
                list(cell.evidence), inherited_from=cell.inherited_from or base, search=cell.search)


def _had_stage(stage: str, dossier: Dossier, rules: Rules, relation: str | None) -> bool:
    """The model went through the stage: pre-training always (a derivative's is its base's); SFT
    as a fine-tune or adapter of a base; any stage its id or tags name, or its card says it went
    through ("this model uses SFT and preference training"); and a stage a derivative's own card
    names data for. A base model's card naming data for a later stage speaks of its
    instruct sibling (a family card), and code alone shows no stage: fine-tuning scripts are
    offered to users."""
    if stage == "pretraining":
        return True
    if stage == "sft" and relation in ("finetune", "adapter"):
        return True
    if stage in named_stages(dossier, rules) or any(stage in f["value"] for f in dossier.of("weights.stages")):
        return True
    return bool(dossier.bases or relation) and stage in _data_stages(dossier)


def _data_stages(dossier: Dossier) -> set[str]:
    """The stages the card names data for: its datasets' known stages and its corpora's."""
    stages = {item.get("stage") for f in dossier.of("data.card_datasets")
              for item in (f["value"] if isinstance(f["value"], list) else []) if isinstance(item, dict)}
    return stages | {f["value"].get("stage") for f in dossier.of("data.corpus")}


def named_stages(dossier: Dossier, rules: Rules) -> frozenset[str]:
    """The training stages the model's own id or tags name ("-instruct", "dpo"). The only thing the
    engine reads of a model's identity, so a shape classified once (chunk.py) carries it."""
    if dossier.named_stages is None:
        dossier.named_stages = stages_named(dossier.model_id, dossier.info.get("tags"), rules)
    return dossier.named_stages


def stages_named(model_id: str, tags: list | None, rules: Rules) -> frozenset[str]:
    """named_stages from a model's id and tags, before it has a dossier (chunk.py's shapes)."""
    names = " ".join([model_id] + [t for t in tags or [] if isinstance(t, str)]).replace("/", " ")
    return stages_in(names, rules, model_id)


def stages_in(names: str, rules: Rules, model_id: str) -> frozenset[str]:
    """The stages a model's names (its id and tags, joined by spaces, '/' a space) name, and those
    its id alone names."""
    own = model_id.replace("/", " ")
    return frozenset(stage for stage, words in rules.stage_words.items() if words.search(names)) | \
        frozenset(stage for stage, words in rules.stage_words_in_id.items() if words.search(own))


def _relation(dossier: Dossier) -> str | None:
    base = dossier.of("weights.base_model")
    return base[0]["value"].get("relation") if base else None


@functools.lru_cache(maxsize=4096)  # a few hundred licences in play, asked for cell after cell
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
    closed = [c for c in cells.values() if c.level == 1]
    # a cell inherited from a base keeps that cell's search: a search means it was not found there
    not_found = sum(1 for c in closed if c.reason == "not_found" or (c.reason == "inherited" and c.search))
    return {"fully_open": levels.count(5), "semi_open": sum(1 for l in levels if l in (2, 3, 4)),
            "closed": len(closed), "closed_not_found": not_found, "closed_stated": len(closed) - not_found,
            "unknown": sum(1 for c in cells.values() if c.label == UNKNOWN),
            "not_applicable": sum(1 for c in cells.values() if c.label == NOT_APPLICABLE)}
