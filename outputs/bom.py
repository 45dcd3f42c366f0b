"""What an AI bill of materials says of one model, read from the warehouse: the model's latest
commit, its weight files (with LFS sha256), the datasets and code repositories its card links and
what following them found, its base models up the chain, and its classification. The SPDX writers
(outputs/spdx.py) turn this into documents; nothing here knows SPDX."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from openness.extractors.knowledge import weight_formats
from openness.classification.scale.classify import NotClassified, explain
from openness.warehouse.db import connect
from openness.outputs.errors import NotInWarehouse

MAX_ANCESTORS = 16  # a chain longer than this is a loop or noise


@dataclass
class Part:
    """A dataset, code repository or base model the model links to."""
    kind: str                 # dataset, code, base_model
    id: str                   # canonical id (after redirects)
    version: str | None       # commit or tree sha
    declared: str | None      # the licence as its host or card states it (a Hub tag, GitHub's spdx id)
    licence_ids: list[str] = field(default_factory=list)  # knowledge-base ids the audit concluded
    url: str = ""
    resolved: bool = True     # False: linked, but following it failed
    note: str | None = None   # why not resolved; roles of a code repo; the base model relation
    parent: str | None = None  # the model whose card links it (ancestors link their own bases)
    written: str | None = None  # the id as the card wrote it, where it differs (a rename, another case)


@dataclass
class ModelBom:
    model_id: str
    sha: str
    author: str | None
    declared: str | None          # the card's licence tag
    licence_name: str | None      # license_name of an `other` licence
    url: str
    weights: list[dict] = field(default_factory=list)   # {path, size, lfs_sha256}
    parts: list[Part] = field(default_factory=list)
    explained: dict | None = None  # openness explain's shape, when classified
    licence_texts: dict[str, dict] = field(default_factory=dict)  # knowledge id -> {text, url} of a stored licence file
    endpoint: str = "https://huggingface.co"  # the Hub whose addresses the document gives


def gather(warehouse_path, model_id: str, endpoint: str = "https://huggingface.co") -> ModelBom:
    endpoint = endpoint.rstrip("/")
    with connect(warehouse_path, read_only=True) as con:
        bom = _model(con, model_id, endpoint)
        bom.weights = _weights(con, bom.model_id, bom.sha)
        bom.licence_texts = _licence_texts(con, bom.model_id, bom.sha, endpoint)
        bom.parts = _parts(con, bom.model_id, bom.sha, endpoint)
    try:
        bom.explained = explain(warehouse_path, model_id)
    except NotClassified:
        bom.explained = None
    _conclude_as_the_cells(bom)
    return bom


def _conclude_as_the_cells(bom: ModelBom) -> None:
    """A dataset whose licence the verdicts read where its own row names none (the knowledge base
    knows a dataset the Hub tags with nothing) concludes that licence here too: a document must not
    say NOASSERTION for the dataset a cell rates D4 by its licence."""
    read: dict[str, set[str]] = {}
    for cell in (bom.explained or {}).get("components", {}).values():
        for licence in cell.get("licenses") or []:
            source = licence.get("source") or ""
            if source.startswith("dataset ") and licence.get("id"):
                read.setdefault(source.split(" ")[1], set()).add(licence["id"])
    for part in bom.parts:
        names = read.get(part.id, set()) | read.get(part.written, set())
        if part.kind == "dataset" and not part.licence_ids and names:
            part.licence_ids = sorted(names)
            part.note = "; ".join(filter(None, (part.note, "licence concluded as the classification read it")))


def _model(con, model_id: str, endpoint: str) -> ModelBom:
    rows = con.execute("SELECT model_id, sha, author, license, card_data FROM latest_models WHERE model_id = ?",
                       [model_id]).fetchall()
    if not rows:
        raise NotInWarehouse(f"{model_id} is not in the warehouse: crawl or audit it first")
    model, sha, author, licence, card = rows[0]
    card = json.loads(card) if isinstance(card, str) else (card or {})
    name = card.get("license_name") if isinstance(card, dict) and isinstance(card.get("license_name"), str) else None
    return ModelBom(model, sha, author, licence, name, f"{endpoint}/{model}", endpoint=endpoint)


def _weights(con, model_id: str, sha: str) -> list[dict]:
    files = con.execute("SELECT path, size, lfs_sha256 FROM repo_files WHERE model_id = ? AND sha = ? ORDER BY path",
                        [model_id, sha]).fetchall()
    formats = weight_formats()
    return [{"path": path, "size": size, "lfs_sha256": lfs} for path, size, lfs in files
            if any(f.matches(path) for f in formats)]


def _licence_texts(con, model_id: str, sha: str, endpoint: str) -> dict[str, dict]:
    """The stored licence files whose text the licence extractor named, by knowledge-base id."""
    rows = con.execute("""
        SELECT f.value, d.text, d.path FROM findings f
        JOIN documents d ON d.model_id = f.model_id AND d.sha = f.sha AND d.path = json_extract_string(f.value, '$.path')
        WHERE f.model_id = ? AND f.sha = ? AND f.signal = 'licence.identified'""", [model_id, sha]).fetchall()
    texts = {}
    for value, text, path in rows:
        licence = (json.loads(value) if isinstance(value, str) else value or {}).get("id")
        if licence and text and licence not in texts:
            texts[licence] = {"text": text, "url": f"{endpoint}/{model_id}/blob/{sha}/{path}"}
    return texts


def _parts(con, model_id: str, sha: str, endpoint: str) -> list[Part]:
    parts, seen, queue = [], set(), [(model_id, sha, 0)]
    while queue:
        owner, owner_sha, depth = queue.pop(0)
        relation = _base_relation(con, owner, owner_sha)
        for kind, target, resolved_id, status, reason in con.execute("""
                SELECT l.kind, l.target, t.resolved_id, coalesce(t.status, 'pending'), t.reason
                FROM model_links l LEFT JOIN link_targets t USING (kind, target)
                WHERE l.model_id = ? AND l.sha = ? AND l.kind IN ('dataset', 'code', 'base_model')
                  -- what the model mentions is not part of it; a guessed repo only where it exists
                  AND l.relevance IS DISTINCT FROM 'mention' AND (l.relevance IS DISTINCT FROM 'guess' OR t.status = 'resolved')
                ORDER BY l.kind, l.target""", [owner, owner_sha]).fetchall():
            key = (kind, resolved_id or target)
            if key in seen or (kind != "base_model" and owner != model_id):
                continue  # an ancestor's own datasets and code are its document's business
            seen.add(key)
            part = _part(con, kind, resolved_id or target, status, reason, endpoint)
            part.parent, part.written = owner, target if target != part.id else None
            if kind == "base_model" and part.resolved:
                part.note = relation  # how the owner derives from it: a card states it of its own base
            parts.append(part)
            if kind == "base_model" and part.resolved and part.version and depth < MAX_ANCESTORS:
                queue.append((part.id, part.version, depth + 1))
    return parts


def _part(con, kind: str, target: str, status: str, reason: str | None, endpoint: str) -> Part:
    unresolved = Part(kind, target, None, None, url=_url(kind, target, endpoint), resolved=False,
                      note=f"{status}: {reason}" if reason else status)
    if status != "resolved":
        return unresolved
    if kind == "dataset":
        row = con.execute("SELECT sha, license, licence_ids FROM datasets WHERE dataset_id = ? "
                          "ORDER BY complete DESC, last_modified DESC NULLS LAST, sha LIMIT 1", [target]).fetchall()
        if row:
            return Part(kind, target, row[0][0], row[0][1], list(row[0][2] or []), _url(kind, target, endpoint))
    elif kind == "code":
        row = con.execute("SELECT tree_sha, host_licence, licence_ids, roles FROM code_repos WHERE repo = ? "
                          "ORDER BY complete DESC, pushed_at DESC NULLS LAST, tree_sha LIMIT 1", [target]).fetchall()
        if row:
            roles = ", ".join(row[0][3] or []) or None
            return Part(kind, target, row[0][0], row[0][1], list(row[0][2] or []), _url(kind, target, endpoint),
                        note=f"roles: {roles}" if roles else None)
    else:
        row = con.execute("SELECT sha, license FROM latest_models WHERE model_id = ?", [target]).fetchall()
        if row:
            return Part(kind, target, row[0][0], row[0][1], weights_licences(con, target, row[0][0]),
                        _url(kind, target, endpoint))
    return unresolved


def _base_relation(con, model_id: str, sha: str) -> str | None:
    """The card's base_model_relation (adapter, merge, quantized, finetune), else what the Hub's
    base_model:<relation>: tags say."""
    row = con.execute("SELECT card_data, tags FROM models WHERE model_id = ? AND sha = ?", [model_id, sha]).fetchall()
    if not row:
        return None
    card = json.loads(row[0][0]) if isinstance(row[0][0], str) else (row[0][0] or {})
    relation = card.get("base_model_relation") if isinstance(card, dict) else None
    if isinstance(relation, str):
        return relation
    for tag in row[0][1] or []:
        parts = tag.split(":")
        if len(parts) >= 3 and parts[0] == "base_model" and parts[1] in ("adapter", "merge", "quantized", "finetune"):
            return parts[1]
    return None


def weights_licences(con, model_id: str, sha: str) -> list[str]:
    """The licences the classification concluded for a commit's weights (empty when unclassified)."""
    row = con.execute("SELECT licences FROM classifications WHERE model_id = ? AND sha = ? "
                      "AND component = 'deployment.data.weights'", [model_id, sha]).fetchall()
    licences = json.loads(row[0][0]) if row and row[0][0] else []
    return list(dict.fromkeys(l["id"] for l in licences if l.get("id")))


def _url(kind: str, target: str, endpoint: str) -> str:
    if kind == "code":
        return f"https://{target}"
    return f"{endpoint}/datasets/{target}" if kind == "dataset" else f"{endpoint}/{target}"
