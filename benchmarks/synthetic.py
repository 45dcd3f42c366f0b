"""Synthetic worlds for benchmarks: plausible cards and file lists, deterministic from a seed."""
from __future__ import annotations

import json
import random
from pathlib import Path

LICENCES = ["apache-2.0"] * 30 + ["mit"] * 15 + ["llama3.1"] * 8 + ["gemma"] * 6 + ["cc-by-nc-4.0"] * 5 + \
    ["other"] * 8 + ["openrail"] * 3 + ["cc-by-4.0"] * 4 + [None] * 21
LIBRARIES = ["transformers"] * 60 + ["gguf"] * 12 + ["peft"] * 10 + ["diffusers"] * 6 + ["mlx"] * 4 + [None] * 8
PIPELINES = ["text-generation", "text-classification", "text-to-image", "feature-extraction", None]
LICENCE_TEXT = "Synthetic licence text for benchmark repo {id}.\n" + "Permission is granted to use this model.\n" * 40


def card(rng: random.Random, model_id: str, licence: str | None, library: str | None) -> str:
    meta = [f"license: {licence}"] if licence else []
    if library:
        meta.append(f"library_name: {library}")
    if rng.random() < 0.4:
        meta.append(f"datasets:\n- synth/corpus-{rng.randrange(200)}")
    if rng.random() < 0.3:
        meta.append(f"base_model: synth-org-{rng.randrange(50)}/base-{rng.randrange(20)}")
    paragraphs = rng.randrange(2, 60)  # cards range from a few lines to tens of KB
    body = "\n\n".join(f"## Section {i}\n" + "This model card describes training, evaluation and use. " * rng.randrange(1, 12)
                       for i in range(paragraphs))
    header = "---\n" + "\n".join(meta) + "\n---\n\n" if meta else ""
    return f"{header}# {model_id}\n\n{body}\n"


def write_world(root: Path, models: int, seed: int = 0, licence_share: float = 0.1, gated_share: float = 0.05) -> Path:
    rng = random.Random(seed)
    for index in range(models):
        owner = f"synth-org-{index % 997}"
        model_id = f"{owner}/model-{index:07d}"
        folder = root / "models" / owner / f"model-{index:07d}"
        (folder / "files").mkdir(parents=True, exist_ok=True)
        licence, library = rng.choice(LICENCES), rng.choice(LIBRARIES)
        files = {"README.md": card(rng, model_id, licence, library)}
        if rng.random() < licence_share:
            files["LICENSE"] = LICENCE_TEXT.format(id=model_id)
        for path, text in files.items():
            (folder / "files" / path).write_text(text, encoding="utf-8")
        weights = [{"rfilename": f"model-{i:05d}-of-00004.safetensors", "size": 4_000_000_000,
                    "lfs": {"sha256": f"{index:032x}{i:032x}", "size": 4_000_000_000, "pointerSize": 134}}
                   for i in range(1, rng.choice([2, 3, 5]))]
        info = {"id": model_id, "downloads": rng.randrange(100000), "likes": rng.randrange(500),
                "gated": rng.choice(["auto", "manual"]) if rng.random() < gated_share else False,
                "tags": [t for t in (library, f"license:{licence}" if licence else None, "region:us") if t],
                "library_name": library, "pipeline_tag": rng.choice(PIPELINES),
                "siblings": [{"rfilename": p} for p in files] + weights}
        (folder / "info.json").write_text(json.dumps(info), encoding="utf-8")
    return root
