"""Classification benchmark: a synthetic warehouse of N models (default 1,000,000) written straight
into DuckDB with set-based SQL (models, their findings with evidence, links to base models, GitHub
repos and datasets, and what following those links found), then `openness classify` over all of it;
then a new commit for 1% of the models and `openness classify` again, which redoes only those (and
what inherits from them).

    python benchmarks/classify.py --models 1000000 [--keep DIR]

    python benchmarks/classify.py --models 1000000 --workers 1   # all in this process

Prints a JSON report: seconds to build the warehouse, seconds for the full classification and for
the 1%-changed one, models per second, and the peak memory (RSS) of this process and of the
largest worker process.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import work_folder  # noqa: E402
from openness.classification.scale.classify import CHUNK_MODELS, classify_warehouse  # noqa: E402
from openness.warehouse.db import connect  # noqa: E402

BASES = 2000       # base models, themselves in the warehouse (every 500th model is one)
REPOS = 5000
DATASETS = 3000

LICENCES = ("apache-2.0", "mit", "llama3.1", "gemma", "cc-by-nc-4.0", None)


def _licence_case() -> str:
    """SQL: a licence.declared value picked by the model's number."""
    items = [f'[{{"id": "{l}", "points": 5}}]' if l else '[{"id": null, "points": null}]' for l in LICENCES]
    return "CASE i % 6 " + " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(items)) + " END"


def build(path: str, models: int) -> None:
    """Every insert names its columns (BY NAME), so a column added to the schema does not break it."""
    with connect(path) as con:
        # every 500th model is a base model, under the id the links below name
        con.execute(f"CREATE TEMP TABLE ids AS SELECT i, CASE WHEN i % 500 = 0 THEN 'org-0/model-' || i "
                    f"ELSE 'org-' || (i % 9973) || '/model-' || i END AS model_id, md5(i::VARCHAR) AS sha "
                    f"FROM range({models}) t(i)")
        con.execute("INSERT INTO crawl_runs BY NAME SELECT 'bench' AS run_id, now()::TIMESTAMP AS started_at, "
                    "'complete' AS status, 'https://hub.example' AS endpoint, '{}' AS selection")
        con.execute("""INSERT INTO models BY NAME
                       SELECT model_id, sha, split_part(model_id, '/', 1) AS author,
                              CASE WHEN i % 17 = 0 THEN 'auto' ELSE 'none' END AS gated, false AS private,
                              false AS disabled, (i * 7919) % 100000 AS downloads, i % 300 AS likes,
                              CASE WHEN i % 11 = 0 THEN ['transformers', 'dpo'] ELSE ['transformers'] END AS tags,
                              'text-generation' AS pipeline_tag, 'transformers' AS library_name, 'x' AS license,
                              'ok' AS card_status, true AS complete, 'bench' AS run_id FROM ids""")
        con.execute("INSERT INTO model_stats BY NAME SELECT 'bench' AS run_id, model_id, sha, 0 AS downloads, "
                    "0 AS likes, now()::TIMESTAMP AS observed_at, 'none' AS gated, 0 AS depth FROM ids")
        add_findings(con, "ids", "bench")
        for kind, target in (("base_model", "json_extract_string(f.value, '$.ids[0]')"),
                             ("code", "'github.com/' || json_extract_string(f.value, '$.repo')"),
                             ("dataset", "json_extract_string(f.value, '$[0].id')")):
            con.execute(f"""INSERT INTO model_links BY NAME
                            SELECT f.model_id, f.sha, '{kind}' AS kind, {target} AS target, 'README.md' AS path,
                                   3 AS line_start, '{kind}: ...' AS context, f.signal, 1 AS depth, 'own' AS relevance,
                                   'bench' AS run_id FROM findings f WHERE signal = '{LINK_SIGNALS[kind]}'""")
        con.execute("""INSERT INTO link_targets BY NAME
                       SELECT DISTINCT kind, target, 'resolved' AS status, false AS transient, 200 AS http_status,
                              target AS resolved_id, 1 AS depth, 1 AS attempts, now()::TIMESTAMP AS checked_at,
                              'bench' AS run_id FROM model_links""")
        con.execute(f"""INSERT INTO code_repos BY NAME
                        SELECT 'github.com/code/repo-' || i AS repo, md5('t' || i) AS tree_sha,
                               [CASE WHEN i % 3 = 0 THEN 'mit' ELSE 'apache-2.0' END] AS licence_ids,
                               ['pretraining', 'evaluation'] AS roles, '[]' AS role_evidence, true AS complete,
                               'bench' AS run_id, now()::TIMESTAMP AS pushed_at FROM range({REPOS}) t(i)""")
        con.execute(f"""INSERT INTO datasets BY NAME
                        SELECT 'data/set-' || i AS dataset_id, md5('d' || i) AS sha,
                               [CASE WHEN i % 2 = 0 THEN 'cc-by-4.0' ELSE 'odc-by' END] AS licence_ids,
                               true AS complete, 'bench' AS run_id FROM range({DATASETS}) t(i)""")


LINK_SIGNALS = {"base_model": "weights.base_model", "code": "code.link", "dataset": "data.card_datasets"}


def add_findings(con, ids: str, run_id: str) -> None:
    """Each model's findings: a licence, released weights, gating, a library, silence on data; a
    third link a base model, a fifth a GitHub repo, a quarter name a dataset."""
    evidence = ("'[{\"url\": \"https://hub.example/' || model_id || '/resolve/' || sha || '/README.md\", "
                "\"path\": \"README.md\", \"line_start\": 2, \"line_end\": 2, \"snippet\": \"license: x\"}]'")
    findings = {
        "licence.declared": (_licence_case(), "true"),
        "weights.release": ("'\"full\"'", "true"),
        "weights.gating": ("CASE WHEN i % 17 = 0 THEN '{\"mode\": \"auto\"}' ELSE '{\"mode\": \"none\"}' END", "true"),
        "code.library": ("'{\"library\": \"transformers\", \"role\": \"inference\"}'", "true"),
        "data.disclosure": ("'{\"status\": \"silent\", \"stages\": {}}'", "true"),
        "weights.base_model": (f"'{{\"ids\": [\"org-0/model-' || ((i % {BASES}) * 500) || '\"], \"relation\": \"finetune\"}}'",
                               "i % 3 = 1 AND i % 500 <> 0"),
        "code.link": (f"'{{\"host\": \"github.com\", \"repo\": \"code/repo-' || (i % {REPOS}) || '\", \"roles\": [\"pretraining\"]}}'",
                      "i % 5 = 2"),
        "data.card_datasets": (f"'[{{\"id\": \"data/set-' || (i % {DATASETS}) || '\", \"stage\": null, \"corpus\": null, "
                               f"\"licence\": null}}]'", "i % 4 = 3"),
    }
    for signal, (value, where) in findings.items():
        con.execute(f"""INSERT INTO findings BY NAME
                        SELECT md5(model_id || sha || '{signal}') AS finding_id, model_id, sha, '{signal}' AS signal,
                               {value} AS value, 1.0 AS confidence, 'bench' AS extractor, '1' AS extractor_version,
                               {evidence} AS evidence, '{run_id}' AS run_id FROM {ids} WHERE {where}""")


def change_one_percent(path: str) -> int:
    """A new commit for every hundredth model: newer, with another licence."""
    with connect(path) as con:
        con.execute("CREATE TEMP TABLE changed AS SELECT i, model_id, md5('new' || i::VARCHAR) AS sha FROM "
                    "(SELECT split_part(model_id, '/model-', 2)::BIGINT AS i, model_id FROM models) WHERE i % 100 = 7")
        con.execute("""INSERT INTO models BY NAME
                       SELECT c.model_id, c.sha, m.author, m.gated, m.private, m.disabled, m.downloads, m.likes, m.tags,
                              m.pipeline_tag, m.library_name, m.license, m.card_status, m.complete, 'bench-2' AS run_id,
                              now()::TIMESTAMP AS last_modified
                       FROM changed c JOIN models m USING (model_id)""")
        add_findings(con, "(SELECT i + 1 AS i, model_id, sha FROM changed)", "bench-2")
        return con.execute("SELECT count(*) FROM changed").fetchone()[0]


def measure(models: int, work: Path, workers: int | None = None, batch_size: int = CHUNK_MODELS) -> dict:
    path = str(work / "bench.duckdb")
    started = time.perf_counter()
    build(path, models)
    built = time.perf_counter() - started
    started = time.perf_counter()
    result = classify_warehouse(path, workers=workers, batch_size=batch_size)
    seconds = time.perf_counter() - started
    changed = change_one_percent(path)
    started = time.perf_counter()
    again = classify_warehouse(path, workers=workers, batch_size=batch_size)
    again_seconds = time.perf_counter() - started
    return {"models": result.models, "build_s": round(built, 1), "classify_s": round(seconds, 1),
            "models_per_s": round(result.models / seconds), "cells": sum(result.by_label.values()),
            "by_label": dict(sorted(result.by_label.items())),
            "changed_commits": changed, "incremental_s": round(again_seconds, 2), "incremental_models": again.models,
            "incremental_unchanged": again.unchanged, "incremental_redone": dict(sorted(again.redone.items())),
            "workers": result.workers,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_worker_mb": result.peak_rss_mb_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, help="classifying processes (default: one per core)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    with work_folder(args.keep, "openness-classify-") as work:
        print(json.dumps(measure(args.models, work, args.workers), indent=2))


if __name__ == "__main__":
    main()
