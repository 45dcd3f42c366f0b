"""What changed since a model's last classification, so `openness classify` redoes only that.

A model's cells are a pure function of (a) the classifier: the rules, the knowledge the engine
reads and the engine's own code; (b) its latest commit's row and findings; (c) what its links led
to: each target's outcome, the followed repository, dataset or paper row the engine reads, and
whether a base model is stored; (d) its base models' cells. Each of (a)-(c) has a fingerprint,
kept beside the model's summary, made from the one declaration of the engine's inputs
(taxonomy/inputs.py): it covers every field the engine reads, so no change leaves a stale cell.
(d) is followed through the chain: a model is redone when a base redone in the same run came
out with other cells.
"""
from __future__ import annotations

import hashlib
from importlib import metadata, resources
from pathlib import Path

from openness.classification.scale.input_sql import fingerprints_sql
from openness.warehouse.db import utcnow


# Why a model is classified again (model_summaries.redone_because), in the order they are checked.
NOT_CLASSIFIED = "not classified before"
NEW_COMMIT = "new commit"
CLASSIFIER = "rules or knowledge changed"
FINDINGS = "findings changed"
LINKS = "linked targets changed"
BASE = "base model's cells changed"
FULL = "full run"
ASKED = "asked for"

# One row per latest model commit: (b) and (c) as order-free sums of row hashes, made from the
# declaration of what the engine reads (taxonomy/inputs.py), so they cover every field it reads.
FINGERPRINTS_SQL = fingerprints_sql()

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
    for package, pattern in (("openness.classification", "**/*"), ("openness.extractors", "data/**/*"),
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


def start_run(con, run_id: str) -> list[str]:
    """Record a classify run as running; return the earlier runs that never finished (killed): what
    they wrote may be a base's new cells whose derivatives still hold cells made from the old."""
    unfinished = [r for (r,) in con.execute("SELECT run_id FROM classify_runs WHERE status = 'running' "
                                            "ORDER BY run_id").fetchall()]
    con.execute("INSERT INTO classify_runs VALUES (?, ?, NULL, 'running')", [run_id, utcnow()])
    return unfinished


def written_by(con, run_ids: list[str]) -> set[str]:
    """The models whose cells these runs wrote (their latest summaries still name them)."""
    if not run_ids:
        return set()
    return {m for (m,) in con.execute("SELECT DISTINCT model_id FROM model_summaries WHERE run_id IN "
                                      "(SELECT unnest(?::VARCHAR[]))", [run_ids]).fetchall()}


def finish_run(con, run_id: str, unfinished: list[str]) -> None:
    """This run complete; the unfinished ones it made good, interrupted (they ask nothing more)."""
    now = utcnow()
    con.execute("UPDATE classify_runs SET status = 'complete', finished_at = ? WHERE run_id = ?", [now, run_id])
    if unfinished:
        con.execute("UPDATE classify_runs SET status = 'interrupted', finished_at = ? WHERE run_id IN "
                    "(SELECT unnest(?::VARCHAR[]))", [now, unfinished])


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
