"""Loading and validating the taxonomy's rules (rules.yml): the only reader of that file."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from openness.extractors.knowledge import lookup
from openness.classification.errors import RulesError

COMPONENT_KEYS = (
    "training.code.pretraining", "training.code.finetuning", "training.code.alignment",
    "evaluation.code.general", "evaluation.code.safety", "deployment.code.inference",
    "training.data.pretraining", "training.data.sft", "training.data.alignment",
    "evaluation.data.utility", "evaluation.data.safety", "deployment.data.weights",
)
STAGES = ("pretraining", "sft", "alignment")


@dataclass(frozen=True)
class Component:
    key: str
    kind: str                      # code or data
    stage: str | None = None
    roles: tuple[str, ...] = ()
    evaluations: tuple[str, ...] = ()
    inherit: bool = False
    harnesses: bool = False
    custom_code: bool = False
    libraries: bool = False
    weights: bool = False


@dataclass(frozen=True)
class Rules:
    version: int
    levels: dict[str, dict[int, int]]
    components: tuple[Component, ...]
    inherit_all_training: tuple[str, ...]
    stage_words: dict[str, re.Pattern]
    stage_words_in_id: dict[str, re.Pattern]
    libraries: dict[str, str]
    runtimes: dict[str, str]
    harnesses: dict[str, str]
    benchmarks: dict[str, str]
    frameworks: dict
    families: dict

    def level(self, kind: str, points: int) -> int:
        return self.levels[kind][points]


def parse_rules(raw: dict) -> Rules:
    try:
        levels = {kind: {int(p): int(level) for p, level in table.items()} for kind, table in raw["levels"].items()}
        components = tuple(Component(**{**c, "roles": tuple(c.get("roles", ())),
                                        "evaluations": tuple(c.get("evaluations", ()))}) for c in raw["components"])
        words, in_id = ({stage: re.compile(rf"(?<![a-z0-9])(?:{'|'.join(ws)})(?![a-z0-9])", re.IGNORECASE)
                         for stage, ws in raw[key].items()} for key in ("stage_words", "stage_words_in_id"))
        rules = Rules(int(raw["version"]), levels, components, tuple(raw["inherit_all_training"]), words, in_id,
                      dict(raw["libraries"]), dict(raw["runtimes"]), dict(raw["harnesses"]), dict(raw["benchmarks"]), dict(raw["frameworks"]),
                      {k: list(v) for k, v in raw["families"].items()})
        for patterns in rules.families.values():
            re.compile("|".join(patterns))
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise RulesError(f"rules.yml: {type(exc).__name__}: {exc}") from exc
    _validate(rules)
    return rules


def _validate(rules: Rules) -> None:
    if tuple(c.key for c in rules.components) != COMPONENT_KEYS:
        raise RulesError("rules.yml: components must be the taxonomy's twelve keys, in its order")
    for kind in ("code", "data"):
        if set(rules.levels.get(kind, {})) != set(range(6)) or not set(rules.levels[kind].values()) <= set(range(2, 6)):
            raise RulesError(f"rules.yml: levels.{kind} must map every point 0-5 to a level 2-5")
    for component in rules.components:
        if component.kind not in ("code", "data") or (component.stage and component.stage not in STAGES):
            raise RulesError(f"rules.yml: {component.key}: bad kind or stage")
    artefacts = {"model_card", "data_card", "paper", "evaluation_results", "data_information"}
    for framework, groups in rules.frameworks.items():
        for group, pieces in groups.items():
            for piece in pieces:
                ok = piece in COMPONENT_KEYS or (piece.startswith("artefact.") and piece.split(".", 1)[1] in artefacts)
                if not ok:
                    raise RulesError(f"rules.yml: frameworks.{framework}.{group}: unknown piece {piece!r}")
    if set(rules.frameworks.get("mof", {})) != {"I", "II", "III"}:
        raise RulesError("rules.yml: frameworks.mof must name classes I, II and III")
    for fmt, runtime in rules.runtimes.items():
        if runtime not in rules.libraries:
            raise RulesError(f"rules.yml: runtimes.{fmt}: {runtime!r} is not in libraries")
    for table in ("libraries", "harnesses", "benchmarks"):
        for name, licence in getattr(rules, table).items():
            if lookup(licence) is None:
                raise RulesError(f"rules.yml: {table}.{name}: licence {licence!r} is not in the knowledge base")


@functools.cache
def rules() -> Rules:
    text = (resources.files("openness.classification.taxonomy") / "rules.yml").read_text("utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"rules.yml is not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_rules(data)
