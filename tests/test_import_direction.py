"""Imports run one way, along the pipeline: extractors (pure) <- warehouse (storage, classification,
outputs) <- crawler (harvest and orchestration) <- cli. The Hub emulator (crawler/world) models the
services and imports nothing of ours but the card YAML limits it shares with the crawler. A test
walks every import, function-level ones included."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("extractors", "warehouse", "crawler", "cli")
# what each package may import of ours (the emulator is checked first, as the narrower rule)
ALLOWED = {
    "crawler.world": ("crawler.world", "crawler.card_yaml"),
    "extractors": ("extractors",),
    "warehouse": ("extractors", "warehouse"),
    "crawler": ("extractors", "warehouse", "crawler"),
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
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            allowed = rule_for(module)
            for name in imports_of(path):
                checked += 1
                if not any(name == a or name.startswith(a + ".") for a in allowed):
                    upward.append(f"{module} imports {name}")
    assert checked > 200 and upward == []
