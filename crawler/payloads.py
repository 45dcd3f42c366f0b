"""A Hub payload made safe to parse and store: a value of the wrong type (`tags: 5` in a card,
`downloads: "many"`, a sibling without a name) is coerced where its meaning is plain or dropped,
and every change is noted, so one odd field never costs the model.

The Hub echoes what a card's YAML says, so any field may hold any type. huggingface_hub's ModelInfo
and ModelCardData parse most values as given and fail on some (a non-list tags, a bad date, a
sibling dict without rfilename). Known fields are checked by type; whatever still fails to parse is
found by trying each field alone, and dropped.
"""
from __future__ import annotations

from datetime import datetime, timezone

from huggingface_hub import ModelCardData, ModelInfo
from huggingface_hub.utils import parse_datetime

# top-level fields the warehouse reads, and the JSON types they may hold
FIELD_TYPES = {
    "id": str, "sha": str, "author": str, "private": bool, "disabled": bool, "gated": (bool, str),
    "downloads": int, "downloadsAllTime": int, "likes": int, "usedStorage": int, "trendingScore": (int, float),
    "library_name": str, "pipeline_tag": str, "mask_token": str, "tags": list, "siblings": list,
    "cardData": dict, "config": dict, "gguf": dict, "safetensors": dict, "transformersInfo": dict,
}
DATE_FIELDS = ("createdAt", "lastModified")
# card keys that hold a name or a list of names
CARD_NAME_LISTS = ("tags", "datasets", "metrics", "language", "base_model", "license")
_KEEP_WHOLE = ("id",)  # without these there is no model to store


def read_model_payload(payload: dict) -> tuple[ModelInfo, dict, list[str]]:
    """(huggingface_hub's ModelInfo, the payload with odd values coerced or dropped, one note per
    change). Raises ValueError only when no model can be read (no id)."""
    notes: list[str] = []
    clean = {}
    for key, value in payload.items():
        fixed = _field(key, value, notes)
        if fixed is not _DROP:
            clean[key] = fixed
    if not isinstance(clean.get("id"), str):
        raise ValueError("model payload without an id")
    try:
        return ModelInfo(**clean), clean, notes  # the usual case: one parse
    except Exception:
        pass
    for key in _unparseable(clean):
        notes.append(f"{key}: huggingface_hub cannot read it (dropped)")
        clean.pop(key)
    return ModelInfo(**clean), clean, notes


_DROP = object()


def _field(key: str, value, notes: list[str]):
    if value is None:
        return None
    if key in DATE_FIELDS:
        if _is_date(value):
            return value
        as_utc = _utc_date(value)
        if as_utc:
            notes.append(f"{key}: {value!r} written as {as_utc} (the client reads UTC dates only)")
            return as_utc
        return _drop(key, value, "a date", notes)
    expected = FIELD_TYPES.get(key)
    if expected is None:
        return value
    if expected is int and isinstance(value, bool):
        return _drop(key, value, "a number", notes)
    if expected is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if expected is int and isinstance(value, int) and not _in_range(value):
        notes.append(f"{key}: {value} is past what a 64-bit count holds (dropped)")
        return _DROP
    if key == "tags" and isinstance(value, str):
        notes.append("tags: a single name where a list was expected (made a list)")
        return [value]
    if not isinstance(value, expected):
        return _drop(key, value, _type_name(expected), notes)
    if key == "tags":
        return _names(key, value, notes)
    if key == "siblings":
        return _siblings(value, notes)
    if key == "cardData":
        return _card(value, notes)
    return value


def _card(card: dict, notes: list[str]) -> dict:
    clean = {}
    for key, value in card.items():
        if key in CARD_NAME_LISTS and value is not None:
            if isinstance(value, str):
                clean[key] = value
            elif isinstance(value, list):
                clean[key] = _names(f"cardData.{key}", value, notes)
            elif _is_number(value) and key != "tags":
                clean[key] = str(value)
                notes.append(f"cardData.{key}: a number where a name was expected (made text)")
            else:
                _drop(f"cardData.{key}", value, "a name or a list of names", notes)
        else:
            clean[key] = value
    if _card_parses(clean):
        return clean
    for key in list(clean):
        if not _card_parses({key: clean[key]}):
            notes.append(f"cardData.{key}: huggingface_hub cannot read it (dropped)")
            clean.pop(key)
    return clean


def _card_parses(card: dict) -> bool:
    try:
        ModelCardData(**card, ignore_metadata_errors=True)
        return True
    except Exception:
        return False


def _names(key: str, values: list, notes: list[str]) -> list:
    numbers = [v for v in values if _is_number(v)]
    kept = [str(v) if _is_number(v) else v for v in values if isinstance(v, str) or _is_number(v)]
    dropped = len(values) - len(kept)
    if dropped:
        notes.append(f"{key}: {dropped} of {len(values)} entries not names (dropped)")
    if numbers:
        notes.append(f"{key}: {len(numbers)} numbers where names were expected (made text)")
    return kept


def _siblings(siblings: list, notes: list[str]) -> list:
    kept = []
    for entry in siblings:
        if not isinstance(entry, dict) or not isinstance(entry.get("rfilename"), str):
            continue
        lfs = entry.get("lfs")
        if lfs is not None and not (isinstance(lfs, dict) and {"size", "sha256", "pointerSize"} <= set(lfs)
                                    and _in_range(lfs["size"])):
            entry = {k: v for k, v in entry.items() if k != "lfs"}
        if "size" in entry and not _in_range(entry["size"]):
            entry = {k: v for k, v in entry.items() if k != "size"}
        kept.append(entry)
    if len(kept) != len(siblings) or any(k is not s for k, s in zip(kept, siblings)):
        notes.append(f"siblings: {len(siblings) - len(kept)} of {len(siblings)} entries without a file name "
                     "(dropped), or with an unreadable lfs record or size")
    return kept


def _unparseable(payload: dict) -> list[str]:
    """The fields that make ModelInfo fail, each found by parsing it alone."""
    base = {k: payload[k] for k in _KEEP_WHOLE if k in payload}
    bad = []
    for key in payload:
        if key in _KEEP_WHOLE:
            continue
        try:
            ModelInfo(**base, **{key: payload[key]})
        except Exception:
            bad.append(key)
    return bad


def _in_range(size) -> bool:
    """A size a 64-bit column holds (a bool is no size)."""
    return isinstance(size, int) and not isinstance(size, bool) and -2**63 <= size < 2**63


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_date(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_datetime(value)
        return True
    except (ValueError, TypeError):
        return False


def _utc_date(value) -> str | None:
    """An ISO 8601 date with an offset ('2024-05-01T00:00:00+00:00') as the Hub writes dates, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def _drop(key: str, value, expected: str, notes: list[str]):
    notes.append(f"{key}: {_type_name(type(value))} where {expected} was expected (dropped)")
    return _DROP


def _type_name(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_type_name(k) for k in kind)
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "an object", type(None): "null"}.get(kind, kind.__name__)
