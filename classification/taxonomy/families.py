"""Model families: repos of one model family grouped under one key, so a family row can be set
beside the hand-made tables that rate "Pythia" or "Llama 2" rather than each checkpoint. Pure."""
from __future__ import annotations

import functools
import re

from openness.classification.taxonomy.rules import rules


@functools.cache
def _noise() -> re.Pattern:
    families = rules().families
    pieces = families["sizes"] + families["versions"] + families["variants"]
    return re.compile(rf"^(?:{'|'.join(pieces)})$", re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 16)  # pieces recur across names ("7b", "instruct", "gguf")
def _is_noise(piece: str) -> bool:
    return _noise().match(piece) is not None


_SEPARATORS = re.compile(r"[-_]")


def family_of(model_id: str) -> str:
    """'EleutherAI/pythia-1.4b-deduped' -> 'eleutherai/pythia'; 'meta-llama/Llama-2-7b-chat-hf' ->
    'meta-llama/llama-2'. A name that is all noise keeps its first piece."""
    owner, _, name = model_id.rpartition("/")
    pieces = [p for p in _SEPARATORS.split(name.lower()) if p]
    kept = [p for p in pieces if not _is_noise(p)] or pieces[:1]
    return f"{owner.lower()}/{'-'.join(kept)}" if owner else "-".join(kept)
