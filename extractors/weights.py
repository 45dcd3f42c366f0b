"""Released weights: formats, shards, size, parameters, precision and quantization, full weights or
an adapter, the base model and its relation, the stages the card says the model went through, the
gate, and weights withheld."""
from __future__ import annotations

import json
import re

from openness.extractors.base import Finding, Located, ModelRecord
from openness.extractors.knowledge import weight_formats
from openness.extractors.lineage import lineage, stated_stages

NAME, VERSION = "weights", "4"
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.")
_GGUF_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[0-9A-Z]+)*|F16|BF16|F32)(?=[.\-]|$)", re.IGNORECASE)
_WITHHELD = re.compile(
    r"(weights? (are|is) not (publicly )?(released|available)|not (be )?publicly released|"
    r"available (up)?on request|upon request|request access to the weights|only (available )?(through|via) (our|the) api)",
    re.IGNORECASE)
# A card saying this repository holds the weights, or telling how to download them from it: evidence
# of a release when the file list shows no weight file (a list cut short, unusual file names).
_STATED = re.compile(
    r"\b(?:this|the)\s+(?:hf\s+|hub\s+|model\s+)?(?:repo(?:sitory)?|model card|page)\s+(?:contains|hosts|holds|provides|includes|has)\s+"
    r"(?:the\s+|all\s+)?(?:[\w-]+\s+){0,3}?(?:weights|checkpoints?|parameters)\b|"
    r"\b(?:weights|checkpoints?)\s+(?:are|is|can\s+be)\s+(?:available|downloaded|found|hosted|provided)\s+"
    r"(?:here|in\s+this\s+repo(?:sitory)?|from\s+this\s+repo(?:sitory)?|on\s+this\s+page)\b", re.IGNORECASE)
_NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt")


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    found = weight_files(record.paths)
    findings = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    formats = sorted(found)
    if formats:
        add("weights.formats", formats, 1.0, [at.file(found[f][0]) for f in formats])
    stated = None if found else _stated_release(record, at)
    if stated:
        add("weights.release", "stated", 0.7, [stated])
    else:
        add("weights.release", release_kind(found), 0.9 if found else 0.6,
            [at.file(p) for f in formats for p in found[f][:1]] or [at.info_key("siblings")])
    shards = _shards(record.paths)
    if shards:
        add("weights.sharded", shards, 1.0, [at.file(shards["index"] or shards["first"])])
    size = _total_size(record, found)
    if size is not None:
        add("weights.total_size", size, 1.0, [at.file(p) for f in formats for p in found[f][:3]])
    params = _parameters(record)
    if params:
        add("weights.parameters", params[0], 1.0, [at.info_key(params[1])])
    precision = _precision(record)
    if precision:
        add("weights.precision", precision, 1.0, [at.info_key("safetensors")])
    quant = _quantization(record, found)
    if quant:
        add("weights.quantization", quant[0], 0.9, quant[1](at))
    base = _base_model(record, found, at)
    if base:
        add("weights.base_model", *base)
    stages = stated_stages(record)
    if stages:  # "this model uses supervised fine-tuning and preference training"
        add("weights.stages", sorted(stages), 0.8, [at.lines("README.md", n, n) for _, n in sorted(stages.items())])
    add("weights.gating", _gating(record), 1.0, [at.info_key("gated")] + _gate_evidence(record, at))
    withheld = _withheld(record, found, at)
    if withheld:
        add("weights.withheld", withheld[0], 0.8, [withheld[1]])
    return findings


def weight_files(paths: list[str]) -> dict[str, list[str]]:
    """Weight files by format (first matching format wins)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        if path.rsplit("/", 1)[-1] in _NOT_WEIGHTS:
            continue
        for fmt in weight_formats():
            if fmt.matches(path):
                found.setdefault(fmt.format, []).append(path)
                break
    return found


def release_kind(found: dict[str, list[str]]) -> str:
    full = [f for f in found if f != "adapter"]
    if full:
        return "full"
    return "adapter" if "adapter" in found else "none"


def _shards(paths: list[str]) -> dict | None:
    shards = sorted(p for p in paths if _SHARD.search(p))
    if not shards:
        return None
    index = next((p for p in paths if p.endswith(".index.json")), None)
    total = int(_SHARD.search(shards[0]).group(2))
    return {"count": len(shards), "declared": total, "complete": len(shards) >= total, "index": index,
            "first": shards[0]}


def _total_size(record: ModelRecord, found: dict[str, list[str]]) -> int | None:
    sizes = {f["path"]: f.get("size") for f in record.files}
    wanted = [p for paths in found.values() for p in paths if not p.endswith(".index.json")]
    if not wanted or any(sizes.get(p) is None for p in wanted):
        return None
    return sum(sizes[p] for p in wanted)


def _parameters(record: ModelRecord) -> tuple[int, str] | None:
    for key in ("safetensors", "gguf"):
        block = record.info.get(key)
        if isinstance(block, dict) and isinstance(block.get("total"), int) and block["total"] > 0:
            return block["total"], key
    return None


def _precision(record: ModelRecord) -> list[str] | None:
    block = record.info.get("safetensors")
    params = block.get("parameters") if isinstance(block, dict) else None
    return sorted(params) if isinstance(params, dict) and params else None


def _quantization(record: ModelRecord, found: dict[str, list[str]]):
    if "gguf" in found:
        types = sorted({m.group(1).upper() for p in found["gguf"] for m in [_GGUF_QUANT.search(p.rsplit("/", 1)[-1])] if m})
        return {"method": "gguf", "types": types}, lambda at: [at.file(p) for p in found["gguf"][:5]]
    config = record.info.get("config") if isinstance(record.info.get("config"), dict) else {}
    tags = {t.lower() for t in record.tags if isinstance(t, str)}
    qconf = config.get("quantization_config")
    if isinstance(qconf, dict) and qconf.get("quant_method"):
        value = {"method": str(qconf["quant_method"]), "bits": qconf.get("bits")}
        return value, lambda at: [at.info_key("config")]
    for path, method in (("quantize_config.json", "gptq"), ("quant_config.json", "awq")):
        if path in record.paths:
            doc = record.documents.get(path)
            bits = (_json_key(doc.text, "bits") if doc else None) or _bits_tag(tags)
            return {"method": method, "bits": bits}, lambda at, p=path: [at.file(p)]
    for method in ("gptq", "awq", "exl2", "bnb", "hqq"):
        if method in tags:
            return {"method": method, "bits": _bits_tag(tags)}, lambda at: [at.info_key("tags")]
    if record.info.get("library_name") == "mlx" and _bits_tag(tags | {record.model_id.lower()}):
        return {"method": "mlx", "bits": _bits_tag(tags | {record.model_id.lower()})}, lambda at: [at.info_key("library_name")]
    return None


def _bits_tag(labels: set[str]) -> int | None:
    for label in labels:
        match = re.search(r"(?<!\d)(2|3|4|5|6|8)-?bit", label)
        if match:
            return int(match.group(1))
    return None


def _json_key(text: str | None, key: str):
    try:
        return json.loads(text).get(key) if text else None
    except (ValueError, AttributeError):
        return None


def _base_model(record: ModelRecord, found: dict[str, list[str]], at: Located):
    """(value, confidence, evidence) of the bases the card names (extractors/lineage.py), with the
    relation: as the metadata states it, else as the files show it (an adapter, a quantization),
    else as the prose says it, else a merge of several bases or a fine-tune of one."""
    declared = lineage(record)
    if declared is None:
        return None
    relation = declared.relation
    if not declared.stated:
        if "adapter" in found and release_kind(found) == "adapter":
            relation = "adapter"
        elif "gguf" in found or _quantization(record, found):
            relation = "quantized"
        elif relation is None:
            relation = "merge" if len(declared.ids) > 1 else "finetune"
    value = {"ids": list(declared.ids), "relation": relation, "relation_stated": declared.stated,
             "source": declared.source}
    if declared.source == "prose":
        value["names"] = list(declared.names)
        return value, 0.6, [at.lines("README.md", declared.line, declared.line)]
    return value, 1.0 if declared.stated else 0.7, [at.card_key("base_model")]


def _gating(record: ModelRecord) -> dict:
    gated = record.info.get("gated")
    mode = gated if gated in ("auto", "manual") else "none"
    card = record.card_data
    fields = card.get("extra_gated_fields")
    return {"mode": mode,
            "fields": sorted(fields) if isinstance(fields, dict) else [],
            "prompt": bool(card.get("extra_gated_prompt")),
            "eu_disallowed": card.get("extra_gated_eu_disallowed") is True}


def _gate_evidence(record: ModelRecord, at: Located) -> list:
    return [at.card_key(k) for k in ("extra_gated_fields", "extra_gated_eu_disallowed", "extra_gated_prompt")
            if k in record.card_data]


def _stated_release(record: ModelRecord, at: Located):
    """The card's line that says this repo holds the weights or downloads them from it, or None."""
    readme = record.readme()
    if not readme or not readme.text:
        return None
    name = re.escape(record.model_id)
    download = re.compile(
        rf"(?:huggingface-cli|hf)\s+download\s+['\"]?{name}\b|git\s+clone\s+https?://huggingface\.co/{name}\b|"
        rf"(?:snapshot_download|hf_hub_download)\([^)]*['\"]{name}['\"]", re.IGNORECASE)
    text, offset = readme.text, 0
    for line in text.splitlines(keepends=True):  # only lines with the words either statement needs
        lowered = line.lower()
        candidates = ([_STATED] if ("weight" in lowered or "checkpoint" in lowered or "parameters" in lowered) else []) \
            + ([download] if ("download" in lowered or "clone" in lowered) else [])
        for pattern in candidates:
            match = pattern.search(line)
            start = offset + match.start() if match else 0
            if match and not _WITHHELD.search(text[max(0, start - 80):offset + match.end() + 80]):
                return at.match("README.md", start, offset + match.end())
        offset += len(line)
    return None


def _withheld(record: ModelRecord, found: dict[str, list[str]], at: Located):
    if found:
        return None
    readme = record.readme()
    if not readme or not readme.text:
        return None
    match = _WITHHELD.search(readme.text)
    if not match:
        return None
    return {"statement": match.group(0)}, at.match("README.md", match.start(), match.end())
