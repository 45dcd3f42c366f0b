"""Imports run one way, down the pipeline's rooms: extraction (pure) is the base; storage (warehouse)
knows only itself; the harvest (crawler) extracts and stages; classification reads storage; the
outputs read classification and storage; the orchestration (pipeline) runs them all; the CLI sits
on top. The Hub emulator models the services and imports nothing of ours but the card YAML limits
it shares with the harvest. A test walks every import, function-level ones included."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("extractors", "warehouse", "crawler", "classification", "outputs", "pipeline", "emulator", "cli")
# what each room may import of ours
ALLOWED = {
    "extractors": ("extractors",),
    "warehouse": ("warehouse",),
    "crawler": ("extractors", "warehouse", "crawler"),
    "classification": ("extractors", "warehouse", "classification"),
    "outputs": ("extractors", "warehouse", "classification", "outputs"),
    "emulator": ("emulator", "extractors.card_yaml"),
    "pipeline": ("extractors", "warehouse", "crawler", "classification", "outputs", "emulator", "pipeline"),
    "cli": OURS,
}


def imports_of(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name.split(".")[0] in OURS]


def rule_for(module: str) -> tuple[str, ...]:
    return next(allowed for prefix, allowed in ALLOWED.items() if module == prefix or module.startswith(prefix + "."))


def test_no_module_imports_a_later_pipeline_step():
    upward = []
    checked = 0
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "sample" in path.relative_to(ROOT).parts:  # the emulator's sample world: data
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            allowed = rule_for(module)
            for name in imports_of(path):
                checked += 1
                if not any(name == a or name.startswith(a + ".") for a in allowed):
                    upward.append(f"{module} imports {name}")
    assert checked > 200 and upward == []
