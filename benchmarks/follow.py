"""Following benchmark: N models whose cards link a few hundred GitHub repos, Hub datasets and base
models that many models share, served by the emulator in its own process. Measures what following
costs on top of the harvest: requests per distinct target (each must be followed once), time, and
what a second crawl asks again (nothing, within the recheck period).

    python benchmarks/follow.py --models 5000 --repos 300 --datasets 100 --bases 50

Prints a JSON report.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harvest import UNLIMITED, count_requests, serve  # noqa: E402
from openness.pipeline.runner import CrawlConfig, run_crawl  # noqa: E402


def write_world(root: Path, models: int, repos: int, datasets: int, bases: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    for index in range(repos):
        folder = root / "github" / "code-org" / f"repo-{index:04d}"
        (folder / "files").mkdir(parents=True)
        tree = ["README.md", "LICENSE", "train.py", "eval/run.py", "serve/app.py", "requirements.txt"]
        (folder / "repo.json").write_text(json.dumps({"full_name": f"code-org/repo-{index:04d}", "default_branch": "main",
                                                      "license": {"key": "mit", "spdx_id": "MIT", "name": "MIT"},
                                                      "pushed_at": "2025-01-01T00:00:00Z"}))
        (folder / "tree.json").write_text(json.dumps({"tree": [{"path": p, "type": "blob", "size": 100} for p in tree]}))
        (folder / "files" / "README.md").write_text(f"# repo {index}\n\n## Training\n\n## Evaluation\n")
        (folder / "files" / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge ...\n")
        (folder / "files" / "requirements.txt").write_text("torch\ntrl\n")
    for index in range(datasets):
        folder = root / "datasets" / "data-org" / f"set-{index:04d}"
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n# a dataset\n")
        (folder / "info.json").write_text(json.dumps({"id": f"data-org/set-{index:04d}"}))
    for index in range(models):
        base = f"base-org/base-{rng.randrange(bases):03d}" if index >= bases else None
        model_id = base if index < bases else f"org-{index % 97}/model-{index:06d}"
        model_id = f"base-org/base-{index:03d}" if index < bases else model_id
        folder = root / "models" / model_id
        (folder / "files").mkdir(parents=True)
        meta = ["license: mit", f"datasets:\n- data-org/set-{rng.randrange(datasets):04d}"]
        if base:
            meta.append(f"base_model: {base}")
        (folder / "files" / "README.md").write_text(
            "---\n" + "\n".join(meta) + f"\n---\n# {model_id}\n\nCode: https://github.com/code-org/repo-{rng.randrange(repos):04d}\n")
        (folder / "info.json").write_text(json.dumps({"id": model_id}))  # cardData derived from the card


def measure(models: int, repos: int, datasets: int, bases: int, work: Path) -> dict:
    write_world(work / "world", models, repos, datasets, bases)
    process, endpoint = serve(work / "world", work / "crawl.log")
    try:
        config = {"warehouse": str(work / "bench.duckdb"), "endpoint": endpoint, "use_token": False,
                  "rate_budget": UNLIMITED, "fetch_file_sizes": False, "github_api": f"{endpoint}/api/v3",
                  "web_base": f"{endpoint}/web", "settings": {"CONCURRENT_REQUESTS": 32}}
        started = time.perf_counter()
        harvest_only = run_crawl(CrawlConfig(**{**config, "warehouse": str(work / "plain.duckdb")}, follow_depth=0))
        harvest_seconds = time.perf_counter() - started
        before = count_requests(work / "crawl.log")
        started = time.perf_counter()
        result = run_crawl(CrawlConfig(**config))
        seconds = time.perf_counter() - started
        after = count_requests(work / "crawl.log")
        repo_sets = Counter(line for line in (work / "crawl.log").read_text().splitlines()
                            if '"bucket":"github"' in line and "/git/trees/" in line)
        again = run_crawl(CrawlConfig(**config))
    finally:
        process.terminate()
        process.wait()
    requests = {b: after.get(b, 0) - before.get(b, 0) for b in after}
    follow_requests = {b: n - harvest_only.requests.get(b, 0) for b, n in requests.items()}
    return {
        "models": models, "targets": result.targets_followed, "resolved": result.targets_resolved,
        "harvest_only_s": round(harvest_seconds, 1), "harvest_and_follow_s": round(seconds, 1),
        "follow_overhead_s": round(seconds - harvest_seconds, 1),
        "requests": requests, "follow_requests": follow_requests,
        "github_requests_per_repo": round(requests.get("github", 0) / repos, 2),
        "tree_requests_per_repo": max(repo_sets.values()) if repo_sets else 0,
        "second_crawl": {"targets_followed": again.targets_followed, "requests": again.requests},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--repos", type=int, default=300)
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--bases", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openness-follow-"))
    try:
        print(json.dumps(measure(args.models, args.repos, args.datasets, args.bases, work), indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
