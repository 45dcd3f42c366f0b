"""A hostile world of our own, written into a temporary folder: what an attacker or a broken Hub
could serve. Bad ids on a listing page between good models, a YAML bomb, values of the wrong type,
binary, huge and one-line READMEs, path traversal in file names and licence links, and a dataset
whose files come back as a proxy's HTML page (with the emulator's fault `only=` that dataset)."""
from __future__ import annotations

import json
from pathlib import Path

OWNER = "hostile"
GOOD = ("hostile/a-first", "hostile/m-middle", "hostile/z-last")
BAD_IDS = ("hostile/bad id", "hostile/<svg onload=alert(1)>")
HTML_DATASET = "hostile/html-data"
ODD_DATASET = "hostile/odd-types-data"
HTML_FAULTS = f"html=1,only=/datasets/{HTML_DATASET}/resolve/"
MAX_DOCUMENT = 100_000  # the crawl setting the hostile tests run with: above 4x this a body is too large
HUGE_README_BYTES = 600_000
LONG_LINE_CHARS = 300_000


def yaml_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghijk":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\nlicense: mit\n"


def scalar_bomb(chars: int = 200_000, aliases: int = 10_000) -> str:
    """Few nodes, one long string named again and again: 200 KB x 10,000 is a 2 GB value."""
    return f"long: &s \"{'x' * chars}\"\nagain: [" + ", ".join(["*s"] * aliases) + "]\nlicense: mit\n"


def _model(root: Path, folder: str, files: dict[str, bytes | str], info: dict | None = None) -> None:
    base = root / "models" / OWNER / folder
    (base / "files").mkdir(parents=True)
    (base / "info.json").write_text(json.dumps(info or {}), "utf-8")
    for path, content in files.items():
        target = base / "files" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def _card(licence: str, body: str, extra: str = "") -> str:
    return f"---\nlicense: {licence}\n{extra}---\n\n# A model\n\n{body}\n"


def build(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    weights = {"model.safetensors": b"\x00" * 64}
    _model(root, "a-first", {"README.md": _card("mit", "Weights are released."), **weights})
    _model(root, "m-middle", {"README.md": _card("apache-2.0", "Trained on our data.", f"datasets:\n- {ODD_DATASET}\n"), **weights})
    _model(root, "z-last", {"README.md": _card("mit", "Fine-tuned on a dataset.", f"datasets:\n- {HTML_DATASET}\n"),
                            **weights})
    for folder, repo_id in zip(("bad-id", "svg"), BAD_IDS):
        _model(root, folder, {"README.md": _card("mit", "A model with an id the client refuses.")}, {"id": repo_id})
    _model(root, "wrong-types", {"README.md": _card("mit", "Odd values.")},
           {"downloads": "many", "likes": True, "tags": 5, "createdAt": "yesterday",
            "cardData": {"tags": 5, "license": 5, "datasets": {"a": 1}, "base_model": 7, "language": ["en", 3]}})
    # counts and sizes past what a signed 64-bit column holds (the warehouse's BIGINT)
    _model(root, "huge-numbers", {"README.md": _card("mit", "Weights are released."), "config.json": "{}",
                                  "model.safetensors": b"\x00" * 64},
           {"likes": 2**63, "downloads": 2**64, "usedStorage": -2**70,
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "config.json", "size": 2**63},
                         {"rfilename": "model.safetensors",
                          "lfs": {"size": 2**64, "sha256": "ab" * 32, "pointerSize": 134}}]})
    _model(root, "yaml-bomb", {"README.md": f"---\n{yaml_bomb()}---\n\n# Laughs\n"})
    # small enough to be read whole (MAX_DOCUMENT), still 2.4 million characters once expanded
    _model(root, "scalar-bomb", {"README.md": f"---\n{scalar_bomb(40_000, 60)}---\n\n# One string, many times\n"})
    _model(root, "binary-readme", {"README.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)) * 8})
    _model(root, "traversal", {"README.md": _card("other", "See the licence.", "license_link: ../../../../etc/passwd\n"),
                               "LICENSE": "MIT License\n\nPermission is hereby granted, free of charge..."},
           {"siblings": [{"rfilename": "README.md"}, {"rfilename": "LICENSE"}, {"rfilename": "../../../etc/passwd"},
                         {"rfilename": "LICENSE/../../secret"}, {"rfilename": "/etc/shadow"}]})
    line = "word " * (LONG_LINE_CHARS // 10) + "This model is licensed under the Apache License 2.0. " + "word " * (LONG_LINE_CHARS // 10)
    _model(root, "one-line", {"README.md": _card("apache-2.0", line)})
    _model(root, "huge-readme", {"README.md": _card("mit", "x" * HUGE_README_BYTES)})
    data = root / "datasets" / OWNER / "html-data"
    (data / "files").mkdir(parents=True)
    (data / "info.json").write_text("{}", "utf-8")
    (data / "files" / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n# Data\n", "utf-8")
    odd = root / "datasets" / OWNER / "odd-types-data"
    (odd / "files").mkdir(parents=True)
    (odd / "info.json").write_text(json.dumps({"tags": 5, "downloads": "many", "siblings": [{"x": 1}, "s"],
                                               "cardData": {"license": 5, "tags": {"a": 1}}}), "utf-8")
    (odd / "files" / "README.md").write_text("---\nlicense: 5\ntags: {a: 1}\n---\n# Odd\n", "utf-8")
    return root
