"""Installed, the project is one import name, openness.*, mapped from its top-level folders: nothing
generic (cli, crawler, ...) lands in site-packages, the data files travel with their packages, and
`python -m openness` is the command. Checked on a wheel built here, offline, and installed into a
folder of its own."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def package_folders() -> dict[str, str]:
    """Every folder of ours holding an __init__.py, by the name it is installed under."""
    found = {}
    for name, folder in SETUPTOOLS["package-dir"].items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            if "sample" in init.relative_to(ROOT).parts:  # the emulator's sample world is data
                continue
            inner = init.parent.relative_to(ROOT / folder).parts
            found[".".join((name, *inner))] = str(init.parent.relative_to(ROOT))
    return found


def test_every_package_folder_is_listed_and_under_the_openness_name():
    assert sorted(package_folders()) == sorted(SETUPTOOLS["packages"])
    assert all(name == "openness" or name.startswith("openness.") for name in SETUPTOOLS["packages"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    # a copy of the tracked sources, so the build's own folders never land in the project
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        if (ROOT / rel).is_file():
            (build / rel).parent.mkdir(parents=True, exist_ok=True)
            (build / rel).write_bytes((ROOT / rel).read_bytes())
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(out), str(build)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return next(out.glob("openness-*.whl"))


def test_the_wheel_holds_only_the_openness_name_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"openness", next(t for t in tops if t.endswith(".dist-info"))}
    for data in ("openness/warehouse/schema.sql", "openness/classification/taxonomy/rules.yml",
                 "openness/extractors/data/signals.yml", "openness/emulator/sample/README.md",
                 "openness/outputs/data/dataset_card.md", "openness/__main__.py", "openness/cli/main.py",
                 "openness/crawler/spiders/models.py"):
        assert data in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "openness = openness.cli.main:cli" in entry_points


def test_the_installed_wheel_runs_as_python_m_openness(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    # from a folder that is not the project, so only the installed copy can answer
    help_text = subprocess.run([sys.executable, "-m", "openness", "--help"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, check=True).stdout
    assert help_text.startswith("Usage: openness") and "crawl" in help_text
    probe = ("import openness.emulator as e, openness.classification.taxonomy.rules as r, openness.crawler.hub as h;"
             "print(e.sample_world_path(), len(r.rules().components), h.__file__)")
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    assert all(path.startswith(str(target)) for path in (where[0], where[2]))
    assert Path(where[0], "models").is_dir() and int(where[1]) == 12
    bare = subprocess.run([sys.executable, "-c", "import crawler"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "No module named 'crawler'" in bare.stderr


def test_the_installed_wheel_crawls_from_a_folder_of_its_own(wheel, tmp_path, sample_world):
    """Scrapy loads the crawl's components by name in a process of its own: from outside the
    project only the installed names exist, so a bare name anywhere fails here."""
    from openness.emulator import serving
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "HF_TOKEN": ""}
    with serving(sample_world) as server:
        done = subprocess.run([sys.executable, "-m", "openness", "--warehouse", "w.duckdb", "crawl", "--hub-endpoint",
                               server.base_url, "--follow-depth", "0"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "31 seen" in done.stdout and "Traceback" not in done.stderr
