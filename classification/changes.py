"""What changed since a model's last classification, so `openness classify` redoes only that.

A model's cells are a pure function of (a) the classifier: the rules, the knowledge the engine
reads and the engine's own code; (b) its latest commit's row and findings; (c) what its links led
to: each target's outcome, the followed repository, dataset or paper row the engine reads, and
whether a base model is stored; (d) its base models' cells. Each of (a)-(c) has a fingerprint,
kept beside the model's summary; (d) is followed through the chain: a model is redone when a
base redone in the same run came out with other cells. A fingerprint covers more than the engine
reads, never less, so a change can cost a needless redo but never a stale cell.
"""
from __future__ import annotations

import hashlib
from importlib import metadata, resources
from pathlib import Path


# Why a model is classified again (model_summaries.redone_because), in the order they are checked.
NOT_CLASSIFIED = "not classified before"
NEW_COMMIT = "new commit"
CLASSIFIER = "rules or knowledge changed"
FINDINGS = "findings changed"
LINKS = "linked targets changed"
BASE = "base model's cells changed"
FULL = "full run"
ASKED = "asked for"

# Which stored row of a followed repo or dataset classification reads, in a total order: a complete
# fetch before an incomplete one (which is never read while a complete one exists), then the newest,
# then the commit id, so two runs over one warehouse read the same row.
REPO_ORDER = "complete DESC, pushed_at DESC NULLS LAST, tree_sha"
DATASET_ORDER = "complete DESC, last_modified DESC NULLS LAST, sha"

# A link target's reason says why it is not resolved; once resolved, what a re-check noted (renamed,
# unchanged) is the crawl's history, not the model's.
UNRESOLVED_REASON = "CASE WHEN t.status = 'resolved' THEN NULL ELSE t.reason END"

# The rows themselves, one per repo or dataset, as classification and the fingerprints read them.
CHOSEN_REPOS = f"(SELECT * FROM code_repos QUALIFY row_number() OVER (PARTITION BY repo ORDER BY {REPO_ORDER}) = 1)"
CHOSEN_DATASETS = (f"(SELECT * FROM datasets QUALIFY row_number() OVER (PARTITION BY dataset_id "
                    f"ORDER BY {DATASET_ORDER}) = 1)")

# One row per latest model commit: (b) and (c) as order-free sums of row hashes (a commit's rows are
# unique by key, so no two cancel out).
FINGERPRINTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE input_fingerprints AS
WITH found AS (  -- grouped by the key alone: a list (tags) in a grouping key costs a fifth more
    SELECT f.model_id, f.sha, bit_xor(hash(f.finding_id, f.signal, f.value, f.confidence, f.evidence)) AS findings_fp
    FROM findings f JOIN latest_models USING (model_id, sha) GROUP BY f.model_id, f.sha
), own AS (
    SELECT m.model_id, m.sha,
           xor(hash(m.tags, m.pipeline_tag, m.library_name, m.card_status), coalesce(found.findings_fp, 0)) AS inputs_fp
    FROM latest_models m LEFT JOIN found USING (model_id, sha)
), link_rows AS (
    SELECT l.model_id, l.sha, l.kind, l.target, hash(l.kind, l.target, l.url, l.context, l.path, l.line_start,
           l.signal, l.depth, l.relevance, l.relevance_why, l.paths) AS row_fp
    FROM model_links l JOIN latest_models USING (model_id, sha)
    UNION ALL
    SELECT c.model_id, c.sha, c.kind, c.target, hash('paper code', c.target, c.paper, c.depth)
    FROM paper_code_links c JOIN latest_models USING (model_id, sha)
), reached AS (
    SELECT r.model_id, r.sha,
           bit_xor(hash(r.row_fp, t.status, {UNRESOLVED_REASON}, t.transient, t.resolved_id,
                        CASE r.kind
                          WHEN 'code' THEN hash(c.repo, c.tree_sha, c.roles, c.licence_ids, c.host_licence,
                                                c.role_evidence, c.licence_findings, c.doc_findings)
                          WHEN 'dataset' THEN hash(d.dataset_id, d.sha, d.licence_ids)
                          WHEN 'paper' THEN hash(p.paper_id, p.hub_page, p.github_repo)
                          WHEN 'base_model' THEN hash(b.model_id IS NOT NULL)
                        END)) AS links_fp
    FROM link_rows r
    LEFT JOIN link_targets t ON t.kind = r.kind AND t.target = r.target
    LEFT JOIN {CHOSEN_REPOS} c ON r.kind = 'code' AND c.repo = coalesce(t.resolved_id, r.target)
    LEFT JOIN {CHOSEN_DATASETS} d ON r.kind = 'dataset' AND d.dataset_id = coalesce(t.resolved_id, r.target)
    LEFT JOIN papers p ON r.kind = 'paper' AND p.paper_id = r.target
    LEFT JOIN (SELECT model_id FROM latest_models) b ON r.kind = 'base_model' AND b.model_id = coalesce(t.resolved_id, r.target)
    GROUP BY r.model_id, r.sha
)
SELECT own.model_id, own.sha, own.inputs_fp, coalesce(reached.links_fp, 0) AS links_fp
FROM own LEFT JOIN reached USING (model_id, sha)
"""

# The latest commits whose cells may be stale, with the first reason that says so.
STALE_SQL = f"""
SELECT i.model_id, i.sha,
       CASE WHEN s.sha IS NULL AND i.model_id NOT IN (SELECT model_id FROM model_summaries) THEN '{NOT_CLASSIFIED}'
            WHEN s.sha IS NULL THEN '{NEW_COMMIT}'
            WHEN s.classifier_version IS DISTINCT FROM ? THEN '{CLASSIFIER}'
            WHEN s.inputs_fp IS DISTINCT FROM i.inputs_fp THEN '{FINDINGS}'
            WHEN s.links_fp IS DISTINCT FROM i.links_fp THEN '{LINKS}'
       END AS reason
FROM input_fingerprints i LEFT JOIN model_summaries s USING (model_id, sha)
WHERE reason IS NOT NULL
ORDER BY i.model_id
"""


def classifier_version() -> str:
    """A digest of everything the cells depend on besides the warehouse: this release, the rules,
    the knowledge files and the classification code. Any change to one redoes every model."""
    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("openness").encode())
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        digest.update(b"source")
    # the engine reads the knowledge base through extractors/knowledge.py: its reader counts too
    for package, pattern in (("openness.classification", "*"), ("openness.extractors", "data/**/*"),
                             ("openness.extractors", "knowledge.py")):
        root = resources.files(package)
        for path in sorted(_files(root, pattern), key=lambda p: p[0]):
            digest.update(path[0].encode() + b"\0" + path[1].read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _files(root, pattern: str):
    """(relative name, file) of a package's sources and data, without caches."""
    base = Path(str(root))
    for path in base.glob(pattern):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".yml", ".yaml", ".json", ".txt"):
            yield str(path.relative_to(base)), path


def stale_models(con, version: str) -> tuple[dict[str, str], dict[str, str]]:
    """(model id -> its latest commit, model id -> why that commit must be classified again);
    fills input_fingerprints, which holds one row per latest commit."""
    con.execute(FINGERPRINTS_SQL)
    latest = dict(con.execute("SELECT model_id, sha FROM input_fingerprints").fetchall())
    return latest, {model_id: reason for model_id, _, reason in con.execute(STALE_SQL, [version]).fetchall()}


def descendants(roots, bases: dict[str, list[str]]) -> set[str]:
    """Every model built on one of `roots` (a set or dict), however far down the chain."""
    derived: dict[str, list[str]] = {}
    for model, its_bases in bases.items():
        for base in its_bases:
            derived.setdefault(base, []).append(model)
    found = set()
    frontier = [m for m in derived if m in roots] if len(derived) < len(roots) else [m for m in roots if m in derived]
    while frontier:
        frontier = [d for m in frontier for d in derived.get(m, ()) if d not in found]
        found.update(frontier)
    return found


def ancestors(models, bases: dict[str, list[str]]) -> set[str]:
    """The models and every base they are built on."""
    wanted = set(models)
    # only models with bases lead anywhere: of a million, most have none
    frontier = [m for m in bases if m in wanted] if len(bases) < len(wanted) else [m for m in wanted if m in bases]
    while frontier:
        frontier = [b for m in frontier for b in bases.get(m, ()) if b not in wanted]
        wanted.update(frontier)
    return wanted
