"""Classification benchmark: a synthetic warehouse of N models (default 1,000,000) written straight
into DuckDB with set-based SQL (models, their findings with evidence, links to base models, GitHub
repos and datasets, and what following those links found), then `openness classify` over all of it.

    python benchmarks/classify.py --models 1000000 [--keep DIR]

Prints a JSON report: seconds to build the warehouse, seconds to classify, models per second, and
the peak memory (RSS) of the process.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openness.classification.classify import classify_warehouse  # noqa: E402
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
    with connect(path) as con:
        con.execute(f"CREATE TEMP TABLE ids AS SELECT i, 'org-' || (i % 9973) || '/model-' || i AS model_id, "
                    f"md5(i::VARCHAR) AS sha, i % 500 = 0 AS is_base FROM range({models}) t(i)")
        con.execute("""INSERT INTO models (model_id, sha, author, gated, private, disabled, downloads, likes, tags,
                           pipeline_tag, library_name, license, card_status, complete, run_id)
                       SELECT model_id, sha, split_part(model_id, '/', 1), CASE WHEN i % 17 = 0 THEN 'auto' ELSE 'none' END,
                              false, false, (i * 7919) % 100000, i % 300,
                              CASE WHEN i % 11 = 0 THEN ['transformers', 'dpo'] ELSE ['transformers'] END,
                              'text-generation', 'transformers', 'x', 'ok', true, 'bench' FROM ids""")
        con.execute("INSERT INTO model_stats SELECT 'bench', model_id, sha, 0, 0, now()::TIMESTAMP FROM ids")
        evidence = "'[{\"url\": \"https://hub.example/' || model_id || '/resolve/' || sha || '/README.md\", " \
                   "\"path\": \"README.md\", \"line_start\": 2, \"line_end\": 2, \"snippet\": \"license: x\"}]'"
        findings = {
            "licence.declared": _licence_case(),
            "weights.release": "'\"full\"'",
            "weights.gating": "CASE WHEN i % 17 = 0 THEN '{\"mode\": \"auto\"}' ELSE '{\"mode\": \"none\"}' END",
            "code.library": "'{\"library\": \"transformers\", \"role\": \"inference\"}'",
            "data.disclosure": "'{\"status\": \"silent\", \"stages\": {}}'",
        }
        for signal, value in findings.items():
            con.execute(f"INSERT INTO findings SELECT md5(model_id || '{signal}'), model_id, sha, '{signal}', {value}, 1.0, "
                        f"'bench', '1', {evidence}, 'bench' FROM ids")
        # a third link a base model, a fifth a GitHub repo, a quarter name a dataset
        con.execute(f"""INSERT INTO findings SELECT md5(model_id || 'base'), model_id, sha, 'weights.base_model',
                        '{{"ids": ["org-0/model-' || ((i % {BASES}) * 500) || '"], "relation": "finetune"}}', 0.7,
                        'bench', '1', {evidence}, 'bench' FROM ids WHERE i % 3 = 1""")
        con.execute(f"""INSERT INTO findings SELECT md5(model_id || 'code'), model_id, sha, 'code.link',
                        '{{"host": "github.com", "repo": "code/repo-' || (i % {REPOS}) || '", "roles": ["pretraining"]}}', 0.8,
                        'bench', '1', {evidence}, 'bench' FROM ids WHERE i % 5 = 2""")
        con.execute(f"""INSERT INTO findings SELECT md5(model_id || 'data'), model_id, sha, 'data.card_datasets',
                        '[{{"id": "data/set-' || (i % {DATASETS}) || '", "stage": null, "corpus": null, "licence": null}}]', 1.0,
                        'bench', '1', {evidence}, 'bench' FROM ids WHERE i % 4 = 3""")
        # the base models of the links exist under those ids
        con.execute("UPDATE models SET model_id = 'org-0/model-' || split_part(model_id, '/model-', 2) "
                    "WHERE split_part(model_id, '/model-', 2)::BIGINT % 500 = 0")
        con.execute("UPDATE findings SET model_id = 'org-0/model-' || split_part(model_id, '/model-', 2) "
                    "WHERE split_part(model_id, '/model-', 2)::BIGINT % 500 = 0")
        con.execute("UPDATE model_stats SET model_id = 'org-0/model-' || split_part(model_id, '/model-', 2) "
                    "WHERE split_part(model_id, '/model-', 2)::BIGINT % 500 = 0")
        con.execute("""INSERT INTO model_links SELECT f.model_id, f.sha, 'base_model', json_extract_string(f.value, '$.ids[0]'),
                           NULL, 'base_model: ...', 'README.md', 3, f.signal, 1, 'bench' FROM findings f WHERE signal = 'weights.base_model'""")
        con.execute("""INSERT INTO model_links SELECT f.model_id, f.sha, 'code', 'github.com/' || json_extract_string(f.value, '$.repo'),
                           NULL, 'code: ...', 'README.md', 9, f.signal, 1, 'bench' FROM findings f WHERE signal = 'code.link'""")
        con.execute("""INSERT INTO model_links SELECT f.model_id, f.sha, 'dataset', json_extract_string(f.value, '$[0].id'),
                           NULL, 'datasets: ...', 'README.md', 4, f.signal, 1, 'bench' FROM findings f WHERE signal = 'data.card_datasets'""")
        con.execute("""INSERT INTO link_targets SELECT DISTINCT kind, target, 'resolved', NULL, false, 200, target, NULL, NULL,
                           1, 1, now()::TIMESTAMP, 'bench' FROM model_links""")
        con.execute(f"""INSERT INTO code_repos (repo, tree_sha, licence_ids, roles, role_evidence, complete, run_id, pushed_at)
                        SELECT 'github.com/code/repo-' || i, md5('t' || i), [CASE WHEN i % 3 = 0 THEN 'mit' ELSE 'apache-2.0' END],
                               ['pretraining', 'evaluation'], '[]', true, 'bench', now()::TIMESTAMP FROM range({REPOS}) t(i)""")
        con.execute(f"""INSERT INTO datasets (dataset_id, sha, licence_ids, complete, run_id)
                        SELECT 'data/set-' || i, md5('d' || i), [CASE WHEN i % 2 = 0 THEN 'cc-by-4.0' ELSE 'odc-by' END], true, 'bench'
                        FROM range({DATASETS}) t(i)""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="openness-classify-"))
    work.mkdir(parents=True, exist_ok=True)
    path = str(work / "bench.duckdb")
    try:
        started = time.perf_counter()
        build(path, args.models)
        built = time.perf_counter() - started
        started = time.perf_counter()
        result = classify_warehouse(path)
        seconds = time.perf_counter() - started
        report = {"models": result.models, "build_s": round(built, 1), "classify_s": round(seconds, 1),
                  "models_per_s": round(result.models / seconds), "cells": sum(result.by_label.values()),
                  "by_label": dict(sorted(result.by_label.items())),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
