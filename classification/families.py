"""Model families: repos of one model family grouped under one key, so a family row can be set
beside the hand-made tables that rate "Pythia" or "Llama 2" rather than each checkpoint. Pure."""
from __future__ import annotations

import functools
import re

from openness.classification.rules import rules


@functools.cache
def _noise() -> re.Pattern:
    families = rules().families
    pieces = families["sizes"] + families["versions"] + families["variants"]
    return re.compile(rf"^(?:{'|'.join(pieces)})$", re.IGNORECASE)


def family_of(model_id: str) -> str:
    """'EleutherAI/pythia-1.4b-deduped' -> 'eleutherai/pythia'; 'meta-llama/Llama-2-7b-chat-hf' ->
    'meta-llama/llama-2'. A name that is all noise keeps its first piece."""
    owner, _, name = model_id.rpartition("/")
    pieces = [p for p in re.split(r"[-_]", name.lower()) if p]
    kept = [p for p in pieces if not _noise().match(p)] or pieces[:1]
    return f"{owner.lower()}/{'-'.join(kept)}" if owner else "-".join(kept)
