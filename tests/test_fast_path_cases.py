"""Every rule case through both ways of classifying, byte for byte.

Each case of tests/cases/classify and tests/cases/extract (a card, its files, what its links led to,
its base models), and each of tests/cases/repo_roles as the code a model links as its own, is put
in a warehouse as crawled rows, twice: under two different model ids (the
same name words, another owner), commits and finding ids, with evidence URLs that name each. Then
`classify_warehouse` runs, which fills most of them in from their shape's template in SQL
(scale/fill.py), and each model's stored cells and summary must be the bytes the plain engine
makes from the same rows (taxonomy/dossier.dossier_from_rows, engine.classify).

Since the two copies of a case share a shape, a rule that read a model's identity for anything but
the stage words of its id (inputs.STAGE_NAMES) would give them other cells on the plain way and the
same on the fast way: the test fails. The cases' own expectations are checked on the stored cells
too, so the warehouse's rows are the case's input as the taxonomy test reads it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pyarrow as pa
import pytest

from casefiles import cases
from openness.classification.scale import fill
from openness.classification.scale.chunk import CELL_COLUMNS, _cell_rows
from openness.classification.scale.classify import classify_warehouse
from openness.classification.taxonomy.dossier import dossier_from_rows
from openness.classification.taxonomy.engine import classify, summary
from openness.classification.taxonomy.families import family_of
from openness.classification.taxonomy.frameworks import verdicts
from openness.classification.taxonomy.inputs import BASE_LINKS, INPUTS, JSON, TEXTS
from openness.classification.taxonomy.rules import rules
from openness.extractors import Document, ModelRecord, extract_all
from openness.extractors.links import link_rows
from openness.extractors.locations import evidence_url
from openness.warehouse.db import batch_keys, connect, write_registered
from openness.warehouse.staging import arrow_schema



def _linking(n: int, repo_case: dict) -> dict:
    """A repo-roles case (tests/cases/repo_roles) as a model whose card links that repository as
    its own code: the roles found in the repo's files open the model's code cells."""
    from openness.extractors.base import Document
    from openness.extractors.code_repos import RepoFiles, roles
    docs = {p: Document(p, f"https://api.example/contents/{p}", text) for p, text in repo_case["documents"].items()}
    found, evidence = roles(RepoFiles(f"github.com/roles-{n}/kite", "tree", repo_case["paths"], docs))
    card = f"---\nlicense: mit\n---\n# Kite 7B\n\nThe code of this model: https://github.com/roles-{n}/kite\n"
    return {"model_id": f"roles-{n}/kite-7b", "documents": {"README.md": card},
            "files": [{"path": "README.md"}, {"path": "model.safetensors"}],
            "repos": {f"github.com/roles-{n}/kite": {"status": "resolved", "roles": found, "licence_ids": ["mit"],
                                                      "role_evidence": [vars(e) for e in evidence]}}}


CASES = [(f"classify/{name}", case) for name, case in cases("classify")] + \
    [(f"extract/{name}", case) for name, case in cases("extract")] + \
    [(f"repo_roles/{name}", _linking(n, case)) for n, (name, case) in enumerate(cases("repo_roles"))]
NOW = datetime(2026, 1, 1)
HUB = "https://hub.example"


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _identities(n: int, model_id: str) -> list[str]:
    """Two ids for case n: the same name words under two other owners."""
    owner, _, name = model_id.rpartition("/")
    return [f"{owner or 'solo'}-c{n}a/{name}", f"c{n}b/{name}"]


def _moved(evidence: dict, model_id: str, sha: str) -> dict:
    """Evidence of the case's model as the same file of the copy under another id and commit says it."""
    moved = {**evidence, "repo": model_id, "revision": sha}
    return {**moved, "url": evidence_url(moved)}


def _extracted(model_id: str, case: dict):
    """The case's findings and links as the taxonomy cases extract them (tests/test_taxonomy_cases.py)."""
    docs = {p: Document(p, f"{HUB}/{model_id}/resolve/abc/{p}", text) for p, text in (case.get("documents") or {}).items()}
    files = case.get("files") or [{"path": p} for p in docs]
    record = ModelRecord(model_id, "abc", case.get("info") or {}, files, docs)
    return record, extract_all(record), ("README.md" in docs)


class _Rows:
    """Warehouse rows of a group of cases, by table."""

    def __init__(self):
        self.tables: dict[str, list[dict]] = {}
        self.seen: set = set()

    def add(self, table: str, row: dict, key: tuple | None = None) -> None:
        if key is not None:
            if (table, key) in self.seen:
                return
            self.seen.add((table, key))
        self.tables.setdefault(table, []).append({"run_id": "cases", **row})

    def model(self, model_id: str, sha: str, case: dict, original: str) -> None:
        """A model commit of the case under this identity: its row, findings and links, and what
        its links led to."""
        record, findings, has_card = _extracted(original, case)
        info = case.get("info") or {}
        self.add("models", {"model_id": model_id, "sha": sha, "author": model_id.split("/")[0], "tags": info.get("tags"),
                            "pipeline_tag": info.get("pipeline_tag"), "library_name": info.get("library_name"),
                            "card_status": case.get("card_status", "ok") if has_card else "no_readme",
                            "last_modified": NOW, "complete": True})
        for finding in findings:
            row = finding.as_row()
            evidence = json.dumps([_moved(entry, model_id, sha) for entry in json.loads(row["evidence"])], sort_keys=True)
            self.add("findings", {**row, "finding_id": _sha(row["finding_id"] + model_id)[:20], "model_id": model_id,
                                  "sha": sha, "evidence": evidence})
        links = {(link["kind"], link["target"]): link for link in link_rows(model_id, sha, findings, 1)}
        for dataset in case.get("datasets") or {}:  # what the case says its dataset links led to
            links.setdefault(("dataset", dataset), self._link(model_id, sha, "dataset", dataset, "data.card_datasets"))
        for base in case.get("bases") or {}:
            links.setdefault(("base_model", base), self._link(model_id, sha, "base_model", base, "weights.base_model"))
        for link in links.values():
            self.add("model_links", link)
        self._followed(case)
        for base, sub in (case.get("bases") or {}).items():
            if ("models", base) not in self.seen:
                self.seen.add(("models", base))
                self.model(base, _sha(base), {"model_id": base, **sub}, base)

    @staticmethod
    def _link(model_id: str, sha: str, kind: str, target: str, signal: str) -> dict:
        return {"model_id": model_id, "sha": sha, "kind": kind, "target": target, "signal": signal, "depth": 1}

    def _followed(self, case: dict) -> None:
        """The case's repos, datasets and papers as followed targets and their rows."""
        for target, facts in (case.get("repos") or {}).items():
            target = target.lower()
            self._target("code", target, facts)
            findings = [{"signal": "licence.identified", "value": {"id": licence, "scope": "model", "path": "MODEL_LICENSE"},
                         "evidence": []} for licence in facts.get("model_licences") or []]
            if facts.get("covers_models"):
                covers = facts["covers_models"]
                findings.append({"signal": "licence.covers_models", "value": {"statement": covers.get("statement")},
                                 "evidence": covers.get("evidence")})
            self.add("code_repos", {"repo": target, "tree_sha": "t", "roles": facts.get("roles"),
                                    "licence_ids": facts.get("licence_ids"), "host_licence": facts.get("host_licence"),
                                    "role_evidence": json.dumps(facts.get("role_evidence") or []),
                                    "licence_findings": json.dumps(findings),
                                    "doc_findings": json.dumps(facts["documents"]) if facts.get("documents") else None,
                                    "complete": True}, key=(target,))
        for dataset, licences in (case.get("datasets") or {}).items():
            self._target("dataset", dataset, {"status": "resolved"})
            self.add("datasets", {"dataset_id": dataset, "sha": "d", "licence_ids": licences, "complete": True},
                     key=(dataset,))
        for paper, facts in (case.get("papers") or {}).items():
            self._target("paper", paper, facts)
            self.add("papers", {"paper_id": paper, "url": f"https://arxiv.org/abs/{paper[6:]}", "fetched": True,
                                "hub_page": facts.get("hub_page"), "github_repo": facts.get("github_repo")}, key=(paper,))

    def _target(self, kind: str, target: str, facts: dict) -> None:
        if facts.get("status", "pending") != "pending":
            self.add("link_targets", {"kind": kind, "target": target, "status": facts["status"],
                                      "reason": facts.get("reason"), "transient": bool(facts.get("transient")),
                                      "attempts": 1, "checked_at": NOW}, key=(kind, target))

    def write(self, path: str) -> None:
        with connect(path) as con:
            tables = {f"new_{name}": pa.Table.from_pylist(rows, schema=arrow_schema(name))
                      for name, rows in self.tables.items()}
            write_registered(con, tables, [f"INSERT INTO {name} BY NAME SELECT * FROM new_{name}" for name in self.tables])


def _groups() -> list[list[tuple[int, str, dict]]]:
    """The cases cut into warehouses in which no shared id (a base model, a repo, a dataset, a
    paper: rows every model linking it reads) means two things."""
    groups: list[tuple[dict, list]] = []
    for n, (name, case) in enumerate(CASES):
        shared = _shared(case)
        for used, members in groups:
            if all(used.get(key, body) == body for key, body in shared.items()):
                used.update(shared)
                members.append((n, name, case))
                break
        else:
            groups.append((dict(shared), [(n, name, case)]))
    return [members for _, members in groups]


_KINDS = {"code": "repos", "dataset": "datasets", "paper": "papers", "base_model": "bases"}


def _shared(case: dict) -> dict[tuple, str]:
    """(kind, id) -> what the case says of it, for everything its rows share with other models:
    what its links name (a target it says nothing of is unfollowed), and its bases' too."""
    model_id = case.get("model_id", "case/x")
    _, findings, _ = _extracted(model_id, case)
    named = {(_KINDS[link["kind"]], link["target"]) for link in link_rows(model_id, "abc", findings, 1)
             if link["kind"] in _KINDS}
    told = {(kind, key.lower() if kind == "repos" else key): json.dumps(body, sort_keys=True, default=str)
            for kind in _KINDS.values() for key, body in (case.get(kind) or {}).items()}
    found = {key: "unfollowed" for key in named} | told
    for base, sub in (case.get("bases") or {}).items():
        found.update(_shared({"model_id": base, **sub}))
    return found


@pytest.fixture(scope="module")
def classified(tmp_path_factory, monkeypatch_module):
    """Every group's warehouse, classified; and the ids the warehouse filled in from a template."""
    filled: set[str] = set()
    write_block = fill.write_block

    def counting(con, models, run, labels):
        filled.update(models["model_id"])
        return write_block(con, models, run, labels)
    monkeypatch_module.setattr(fill, "write_block", counting)
    out = []
    for g, members in enumerate(_groups()):
        path = str(tmp_path_factory.mktemp("cases") / f"group{g}.duckdb")
        rows = _Rows()
        models = []
        for n, name, case in members:
            for model_id in _identities(n, case.get("model_id", "case/x")):
                rows.model(model_id, _sha(model_id), case, case.get("model_id", "case/x"))
                models.append((name, case, model_id))
        rows.write(path)
        classify_warehouse(path, full=True, workers=1)
        out.append((path, models))
    return out, filled


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


class _Plain:
    """The plain engine over a warehouse's declared rows (read once for every model of it): a
    model's cell rows and summary parts, its stored bases classified the same way first."""

    def __init__(self, con, the_rules):
        self.the_rules, self.cells = the_rules, {}
        keys = con.execute("SELECT model_id, sha FROM models").fetchall()
        with batch_keys(con, "wanted", keys):
            self.rows = {d.name: _grouped(con.execute(d.sql("wanted")).fetchall(), d) for d in INPUTS}
            links = con.execute(BASE_LINKS.sql("wanted")).fetchall()
        self.bases: dict = {}
        for model_id, _, base, stored in links:
            if stored and base != model_id:
                self.bases.setdefault(model_id, set()).add(base)

    def dossier(self, model_id: str):
        sha = _sha(model_id)
        bases = sorted(self.bases.get(model_id, ()))
        for base in bases:
            if base not in self.cells:
                self.cells[base] = classify(self.dossier(base), self.the_rules)
        rows = {name: grouped.get((model_id, sha), []) for name, grouped in self.rows.items()}
        return dossier_from_rows(model_id, sha, rows, {base: self.cells[base] for base in bases})

    def made(self, model_id: str) -> tuple[list[tuple], dict]:
        dossier = self.dossier(model_id)
        cells = classify(dossier, self.the_rules)
        parts = {**summary(cells), **verdicts(cells, dossier, self.the_rules.frameworks), "family": family_of(model_id)}
        return _cell_rows(dossier, cells, self.the_rules.version), parts


def _grouped(rows: list[tuple], declared) -> dict[tuple, list[dict]]:
    out: dict = {}
    for row in rows:
        out.setdefault(row[:2], []).append(_fields(declared, row[2:]))
    return out


def _fields(declared, values: tuple) -> dict:
    """A row as the dossier takes it: the declared fields by name, JSON decoded (independently of
    the machinery's own decoding)."""
    return {field.name: (json.loads(value) if field.kind == JSON and value is not None
                         else list(value) if field.kind == TEXTS and value is not None else value)
            for field, value in zip(declared.fields, values)}


SUMMARY_PARTS = fill.SUMMARY_PARTS + ("family",)


def test_every_case_gives_the_plain_engines_bytes_through_the_warehouse_under_two_identities(classified):
    groups, filled = classified
    the_rules = rules()
    differ, models = [], 0
    for path, members in groups:
        with connect(path, read_only=True) as con:
            engine = _Plain(con, the_rules)
            for name, case, model_id in members:
                models += 1
                plain, parts = engine.made(model_id)
                stored = con.execute(f"SELECT {', '.join(CELL_COLUMNS)} FROM classifications WHERE model_id = ? "
                                     "ORDER BY component", [model_id]).fetchall()
                if sorted(plain, key=lambda r: r[2]) != [tuple(r) for r in stored]:
                    differ.append(f"{name} as {model_id}: cells")
                got = con.execute(f"SELECT {', '.join(SUMMARY_PARTS)} FROM model_summaries WHERE model_id = ?",
                                  [model_id]).fetchall()
                if [tuple(parts.get(p) for p in SUMMARY_PARTS)] != got:
                    differ.append(f"{name} as {model_id}: summary")
    assert models == 2 * len(CASES) and differ == []
    # the fast way was taken: every model but a base whose cells a derivative needs, or an id
    # that cannot be marked
    ids = [model_id for _, members in groups for _, _, model_id in members]
    assert len(filled & set(ids)) >= 0.9 * len(ids), len(filled & set(ids))


def test_every_cases_expectations_hold_on_the_cells_the_warehouse_stored(classified):
    """The warehouse's rows are the case's input as the taxonomy test reads it (tests/test_taxonomy_cases.py)."""
    groups, _ = classified
    wrong = []
    for path, members in groups:
        with connect(path, read_only=True) as con:
            for name, case, model_id in members:
                if not name.startswith("classify/"):
                    continue  # an extract case expects findings, checked in tests/test_extractors_cases.py
                cells = {row[0]: row[1:] for row in con.execute(
                    "SELECT component, label, reason, points, licences, inherited_from FROM classifications "
                    "WHERE model_id = ?", [model_id]).fetchall()}
                for key, expected in (case.get("expect") or {}).items():
                    expected = {"label": expected} if isinstance(expected, str) else expected
                    label, reason, points, licences, inherited = cells[key]
                    got = {"label": label, "reason": reason, "points": points, "inherited_from": inherited,
                           "licences": sorted({l["id"] for l in json.loads(licences or "[]") if l["id"]})}
                    if {k: got[k] for k in expected} != expected:
                        wrong.append(f"{name} as {model_id}: {key} {got} != {expected}")
    assert wrong == []
