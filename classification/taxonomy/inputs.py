"""What the taxonomy engine reads of a model commit, declared once.

Each input is a set of warehouse rows per model commit: the SQL that selects them (for the commits
in a key table: a block's `wanted`, or `latest_models`), its fields and how each is encoded, and
the order the engine gets them in. From this one declaration:
- the dossier is built (dossier.dossier_from_rows reads exactly these fields, by name);
- the machinery that runs the rules at scale reads the rows (scale/classify.py), works out a
  model's shape in Python and in SQL (scale/shapes.py, scale/fill.py), and fingerprints a model's
  inputs to tell what changed (scale/changes.py).
Adding an input, or a field, is one edit here; tests/test_inputs.py fails when a query or the
dossier reads other fields than these.

Identity. A model's id and commit are not inputs: the engine reads the id's words for training
stages only (engine.named_stages). Two fields carry identity and are marked where a shape is made:
a finding's id (copied into cells, never read) and its evidence (whose URLs name the model and
its commit, copied into cells and compared for equality, never read otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

# Why a link target is not resolved; once resolved, what a re-check noted (renamed, unchanged) is
# the crawl's history, not the model's.
UNRESOLVED_REASON = "CASE WHEN t.status = 'resolved' THEN NULL ELSE t.reason END"

# Which stored row of a followed repo or dataset the engine reads: the warehouse's views of the
# current state, which a user's queries read too. Their order is total: a complete fetch before an
# incomplete one (never read while a complete one exists), then the newest, then the commit id, so
# two runs over one warehouse read the same row.
CHOSEN_REPOS = "latest_code_repos"
CHOSEN_DATASETS = "latest_datasets"

TEXT, TEXTS, JSON, FLAG, NUMBER = "text", "texts", "json", "flag", "number"
FINDING_ID, MARKED = "finding id", "marked"  # identity: a marker per distinct id; the id and commit marked


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = TEXT                 # text, texts (a list of text), json (text), flag, number
    identity: str | None = None      # FINDING_ID or MARKED: carries the model's identity


@dataclass(frozen=True)
class Input:
    """One kind of row the engine reads per model commit. `rows`: SQL giving model_id, sha and the
    fields (in this order) for the commits in the table `{keys}`; `order`: each commit's rows in the
    order the engine is given them (a total order: no two rows tie); `group`: the stored
    fingerprint a change of them shows in (inputs: the model's own; links: what its links led to)."""
    name: str
    rows: str
    fields: tuple[Field, ...]
    order: str
    group: str
    one: bool = False                # at most one row per commit

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def sql(self, keys: str) -> str:
        """Its rows for the commits in `keys`, as model_id, sha and the fields, ordered."""
        return (f"SELECT model_id, sha, {', '.join(self.names())} FROM ({self.rows.format(keys=keys)}) "
                f"ORDER BY model_id, sha, {self.order}")


INFO = Input("info", """
    SELECT m.model_id, m.sha, m.tags, m.pipeline_tag, m.library_name, m.card_status
    FROM models m JOIN {keys} USING (model_id, sha)""",
    (Field("tags", TEXTS), Field("pipeline_tag"), Field("library_name"), Field("card_status")),
    order="card_status", group="inputs", one=True)

# Which rows are the block's, from the keys alone, then those rows by their row ids (one statement:
# one snapshot of the table). A join on the rows themselves reads every column of every row it
# probes, texts and all: at a million models, twice the time.
FINDINGS = Input("findings", """
    SELECT model_id, sha, finding_id, signal, value::VARCHAR AS value, confidence, evidence::VARCHAR AS evidence
    FROM findings WHERE rowid IN (SELECT f.rowid FROM findings f SEMI JOIN {keys} USING (model_id, sha))""",
    (Field("finding_id", identity=FINDING_ID), Field("signal"), Field("value", JSON), Field("confidence", NUMBER),
     Field("evidence", JSON, identity=MARKED)),
    order="signal, finding_id", group="inputs")

# The code its links name and its own papers' code, one row per repo: what following it found and
# the stored row of the repo (its roles, licences, model documents). `paper`: the first own paper
# naming it as its code, if any.
REPOS = Input("repos", f"""
    WITH code_links AS (
        SELECT model_id, sha, NULL AS paper, kind, target FROM model_links JOIN {{keys}} USING (model_id, sha)
        WHERE kind = 'code'
        UNION SELECT model_id, sha, paper, kind, target FROM paper_code_links JOIN {{keys}} USING (model_id, sha)
    )
    SELECT l.model_id, l.sha, l.target, min(l.paper) AS paper, any_value(coalesce(t.status, 'pending')) AS status,
           any_value({UNRESOLVED_REASON}) AS reason, any_value(coalesce(t.transient, false)) AS transient,
           any_value(c.roles) AS roles, any_value(c.licence_ids) AS licence_ids,
           any_value(c.host_licence) AS host_licence, any_value(c.role_evidence)::VARCHAR AS role_evidence,
           any_value(c.licence_findings)::VARCHAR AS licence_findings,
           any_value(c.doc_findings)::VARCHAR AS doc_findings
    FROM code_links l
    LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
    LEFT JOIN {CHOSEN_REPOS} c ON c.repo = coalesce(t.resolved_id, l.target)
    GROUP BY l.model_id, l.sha, l.target""",
    (Field("target"), Field("paper"), Field("status"), Field("reason"), Field("transient", FLAG),
     Field("roles", TEXTS), Field("licence_ids", TEXTS), Field("host_licence"), Field("role_evidence", JSON),
     Field("licence_findings", JSON), Field("doc_findings", JSON)),
    order="target", group="links")

# Its dataset links that resolved to a stored dataset with licences.
DATASETS = Input("datasets", f"""
    SELECT l.model_id, l.sha, l.target, d.licence_ids
    FROM model_links l JOIN {{keys}} USING (model_id, sha)
    JOIN link_targets t ON t.kind = l.kind AND t.target = l.target AND t.status = 'resolved'
    JOIN {CHOSEN_DATASETS} d ON d.dataset_id = coalesce(t.resolved_id, l.target)
    WHERE l.kind = 'dataset' AND len(d.licence_ids) > 0""",
    (Field("target"), Field("licence_ids", TEXTS)), order="target", group="links")

# The papers it cites, whose they are, and what their Hub pages said.
PAPERS = Input("papers", f"""
    SELECT l.model_id, l.sha, l.target, coalesce(l.relevance, 'own') AS relevance,
           coalesce(t.status, 'pending') AS status, {UNRESOLVED_REASON} AS reason,
           coalesce(t.transient, false) AS transient, p.hub_page, p.github_repo
    FROM model_links l JOIN {{keys}} USING (model_id, sha)
    LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
    LEFT JOIN papers p ON p.paper_id = l.target
    WHERE l.kind = 'paper'""",
    (Field("target"), Field("relevance"), Field("status"), Field("reason"), Field("transient", FLAG),
     Field("hub_page"), Field("github_repo")),
    order="target", group="links")

INPUTS = (INFO, FINDINGS, REPOS, DATASETS, PAPERS)
# The info fields whose words, with the model id's, name the training stages it went through
# (engine.stages_named): the one thing a shape holds of a model's identity.
STAGE_NAMES = ("tags",)
BY_NAME = {i.name: i for i in INPUTS}

# Not read by the engine, but by the plan: which stored models a commit is built on (their cells
# are its bases' cells, followed through the chain). A base that becomes stored changes the plan.
BASE_LINKS = Input("base_links", """
    SELECT l.model_id, l.sha, coalesce(t.resolved_id, l.target) AS base,
           coalesce(t.resolved_id, l.target) IN (SELECT model_id FROM latest_models) AS stored
    FROM model_links l JOIN {keys} USING (model_id, sha)
    LEFT JOIN link_targets t ON t.kind = l.kind AND t.target = l.target
    WHERE l.kind = 'base_model'""",
    (Field("base"), Field("stored", FLAG)), order="base", group="links")
