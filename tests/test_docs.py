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
