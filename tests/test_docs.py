"""The documentation stays in the project: every relative link of the README and docs/ resolves,
and nothing points outside the project folder."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_resolves_inside_the_project():
    assert len(PAGES) >= 8
    for page in PAGES:
        text = page.read_text("utf-8")
        assert "../shared" not in text, page
        for target in LINK.findall(text):
            if "://" in target:
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.exists(), (page.name, target)
            assert ROOT in resolved.parents or resolved == ROOT, (page.name, target)


def test_the_readme_links_every_page_of_the_docs():
    readme = (ROOT / "README.md").read_text("utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        assert f"(docs/{page.name})" in readme, page.name


def test_nothing_outside_the_tests_points_at_the_shared_calibration_folder():
    """The project's code, data, benchmarks and docs stand alone; only tests calibrate against the
    hand-classified sets kept beside the project."""
    tracked = [path for path in ROOT.rglob("*") if path.is_file() and path.suffix in (".py", ".md", ".yml", ".toml", ".json")
               and not {".venv", ".git", "tests", "build"} & set(path.relative_to(ROOT).parts)]
    assert len(tracked) > 100
    pointing = [str(path.relative_to(ROOT)) for path in tracked
                if re.search(r"(\.\./|\b)shared/(world|gold|TAXONOMY|HUB_API|LICENCE_NOTES|DESIGN)", path.read_text("utf-8", "replace"))]
    assert pointing == []


def test_the_readme_is_a_tour_of_at_most_20_kb_and_the_reference_is_in_docs():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.encode()) <= 20_000
    for heading in ("## Quick start", "## Commands", "## How it works"):
        assert heading in readme
