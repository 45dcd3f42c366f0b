"""`openness extract`: the current extractors over every stored commit, replacing its findings, and
over every stored dataset and code repository the models link to, replacing their derived columns
(licences, roles).

Idempotent: a commit's findings (a target's row) are deleted and written again in one transaction
per batch, so running it twice leaves the same rows (but for the run id)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pyarrow as pa

from openness.extractors import ModelRecord, extract_all
from openness.extractors.links import link_rows
from openness.extractors.targets import code_repo_columns, dataset_columns
from openness.warehouse.db import batch_keys, connect, write_registered
from openness.warehouse.runs import new_run_id
from openness.warehouse.staging import arrow_schema


@dataclass
class ExtractResult:
    run_id: str
    commits: int = 0
    findings: int = 0
    by_signal: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    links: int = 0
    datasets: int = 0                  # dataset commits whose licences were judged again
    code_repos: int = 0                # code repository trees whose roles and licences were judged again
    code_repos_without_paths: int = 0  # trees crawled before their paths were kept: left as they were
    seconds: float = 0.0


def extract_stored(warehouse_path, model_ids: list[str] | None = None, batch_size: int = 500) -> ExtractResult:
    started = time.monotonic()
    result = ExtractResult(run_id="extract-" + new_run_id())
    with connect(warehouse_path, read_only=True) as con:
        sql = "SELECT model_id, sha FROM models"
        params: list = []
        if model_ids:
            sql += " WHERE model_id IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(model_ids))
        commits = con.execute(sql + " ORDER BY model_id, sha", params).fetchall()
    for start in range(0, len(commits), batch_size):
        chunk = commits[start:start + batch_size]
        with connect(warehouse_path) as con:
            rows, links = [], []
            for record, depth in _records(con, chunk):
                findings = extract_all(record)
                rows += [{**finding.as_row(), "run_id": result.run_id} for finding in findings]
                links += [{**link, "run_id": result.run_id}
                          for link in link_rows(record.model_id, record.sha, findings, depth)]
            _replace(con, chunk, rows, links)
        result.commits += len(chunk)
        result.findings += len(rows)
        result.links += len(links)
        for row in rows:
            result.by_signal[row["signal"]] = result.by_signal.get(row["signal"], 0) + 1
    result.errors = result.by_signal.get("extractor.error", 0)
    _rederive_targets(warehouse_path, model_ids, result, batch_size)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _records(con, chunk: list[tuple[str, str]]) -> list[tuple[ModelRecord, int]]:
    """(record, the depth of its links) per commit."""
    with batch_keys(con, "wanted", chunk):
        models = _dicts(con, "SELECT m.* FROM models m JOIN wanted USING (model_id, sha)")
        files = _grouped(con, "SELECT f.model_id, f.sha, f.path, f.size, f.lfs_sha256, f.unread FROM repo_files f "
                              "JOIN wanted USING (model_id, sha)")
        docs = _grouped(con, "SELECT d.model_id, d.sha, d.path, d.url, d.text FROM documents d "
                             "JOIN wanted USING (model_id, sha)")
        # links keep the depth the crawl gave them (1 for a selected model's links)
        depths = {(m, s): d for m, s, d in con.execute(
            "SELECT l.model_id, l.sha, min(l.depth) FROM model_links l JOIN wanted USING (model_id, sha) "
            "GROUP BY ALL").fetchall()}
    records = []
    for model in models:
        key = (model["model_id"], model["sha"])
        record = ModelRecord.from_rows(model, files.get(key, []), docs.get(key, []))
        records.append((record, depths.get(key, 1)))
    return records


def _dicts(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _grouped(con, sql: str) -> dict[tuple[str, str], list[dict]]:
    grouped: dict[tuple[str, str], list[dict]] = {}
    for row in _dicts(con, sql):
        grouped.setdefault((row["model_id"], row["sha"]), []).append(row)
    return grouped


def _replace(con, chunk: list[tuple[str, str]], rows: list[dict], links: list[dict]) -> None:
    done = "(SELECT model_id, sha FROM done)"
    write_registered(con, {"new_findings": pa.Table.from_pylist(rows, schema=arrow_schema("findings")),
                           "new_links": pa.Table.from_pylist(links, schema=arrow_schema("model_links")),
                           "done": pa.table({"model_id": [c[0] for c in chunk], "sha": [c[1] for c in chunk]})},
                     [f"DELETE FROM findings WHERE (model_id, sha) IN {done}",
                      "INSERT INTO findings BY NAME SELECT * FROM new_findings",
                      f"DELETE FROM model_links WHERE (model_id, sha) IN {done}",
                      "INSERT INTO model_links BY NAME SELECT * FROM new_links"])


# Datasets and code repositories: the rows of the targets the selected models' links resolved to (all
# of them without a selection), read and written again in batches, like the commits above.
TARGETS = {
    "dataset": ("datasets", "dataset_id", "sha"),
    "code": ("code_repos", "repo", "tree_sha"),
}


def _rederive_targets(warehouse_path, model_ids: list[str] | None, result: ExtractResult, batch_size: int) -> None:
    for kind, (table, key, ref) in TARGETS.items():
        with connect(warehouse_path, read_only=True) as con:
            sql = f"SELECT {key}, {ref} FROM {table}"
            params: list = []
            if model_ids:
                sql += (f" WHERE {key} IN (SELECT coalesce(t.resolved_id, t.target) FROM model_links l "
                        "JOIN link_targets t USING (kind, target) WHERE l.kind = ? "
                        "AND l.model_id IN (SELECT unnest(?::VARCHAR[])))")
                params += [kind, list(model_ids)]
            keys = con.execute(sql + f" ORDER BY {key}, {ref}", params).fetchall()
        for start in range(0, len(keys), batch_size):
            with connect(warehouse_path) as con:
                _rederive_batch(con, kind, keys[start:start + batch_size], result)


def _rederive_batch(con, kind: str, chunk: list[tuple[str, str]], result: ExtractResult) -> None:
    table, key, ref = TARGETS[kind]
    with batch_keys(con, "wanted", chunk, (key, ref)):
        rows = _dicts(con, f"SELECT t.* FROM {table} t JOIN wanted USING ({key}, {ref})")
        docs = _grouped(con, f"SELECT d.target AS model_id, d.ref AS sha, d.path, d.url, d.text "
                             f"FROM linked_documents d JOIN wanted w ON d.target = w.{key} AND d.ref = w.{ref} "
                             f"WHERE d.kind = '{kind}'")
    redone = []
    for row in rows:
        documents = docs.get((row[key], row[ref]), [])
        if kind == "dataset":
            payload = json.loads(row["info"] or "{}")
            row.update(dataset_columns({**payload, "id": row[key], "sha": row[ref]}, documents))
            result.datasets += 1
        elif row["paths"] is None:
            result.code_repos_without_paths += 1
            continue
        else:
            row.update(code_repo_columns(row[key], row[ref], row["paths"], documents))
            result.code_repos += 1
        redone.append(row)
    if redone:
        write_registered(con, {"redone": pa.Table.from_pylist(redone, schema=arrow_schema(table))},
                         [f"DELETE FROM {table} WHERE ({key}, {ref}) IN (SELECT {key}, {ref} FROM redone)",
                          f"INSERT INTO {table} BY NAME SELECT * FROM redone"])
