"""`openness report`: a static page that loads in a real headless browser (Debian's chromium)
without console errors, whose screenshot shows the coloured matrix and whose rendered DOM holds a
row per model. Chromium is installed by this test's setup when it can be (root, apt-get), else the
browser tests are skipped with the command that would install it."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.report import CHROMIUM_FLAGS, console_errors
from openness.cli.main import cli
from conftest import world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.classification.scale.classify import classify_warehouse
from openness.outputs.report import NothingToReport, write_report



@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=900,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("chromium")
    if not found:
        pytest.skip("Debian's chromium is not installed and could not be installed here: `apt-get install chromium`")
    return found


def browse_args(chromium: str, tmp_path: Path) -> list[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]


def browse(chromium: str, page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*browse_args(chromium, tmp_path), *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG such as chromium writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6)
    size = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b"".join(chunks)), width * size, [], bytearray(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                guess = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + guess) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def count_colour(path: Path, rgb: tuple[int, int, int], from_row: int = 0, to_row: int | None = None) -> int:
    width, height, rows = png_pixels(path)
    size = len(rows[0]) // width
    target = bytes(rgb)
    return sum(1 for row in rows[from_row:to_row] for i in range(0, len(row), size) if row[i:i + 3] == target)


@pytest.fixture(scope="module")
def report(tmp_path_factory, sample_world):
    from openness.emulator import serving
    root = tmp_path_factory.mktemp("report")
    warehouse = str(root / "openness.duckdb")
    with serving(sample_world) as server:
        run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, settings={"WEB_DELAY": 0.0}, **world_endpoints(server)))
    with pytest.raises(NothingToReport):
        write_report(warehouse, root / "empty")
    classify_warehouse(warehouse)
    result = CliRunner().invoke(cli, ["--warehouse", warehouse, "report", "--out", str(root / "site")])
    assert result.exit_code == 0 and "31 of 31 classified models" in result.output, result.output
    return root / "site" / "index.html"


def relative_luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_text_and_background_pair_reads_at_wcag_aa(report):
    from openness.outputs.report_html import LINK_TEXT, MUTED_TEXT, PAGE_BACKGROUND, PAGE_TEXT, PALETTE
    pairs = {f"cell {key}": colours for key, colours in PALETTE.items()}
    pairs.update({"page": (PAGE_BACKGROUND, PAGE_TEXT), "muted": (PAGE_BACKGROUND, MUTED_TEXT),
                  "link": (PAGE_BACKGROUND, LINK_TEXT)})
    low = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < 4.5}
    assert low == {}
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0 and round(contrast("#777777", "#ffffff"), 2) == 4.48
    page = report.read_text("utf-8")  # the page is painted with these pairs, nothing else
    for background, text in PALETTE.values():
        assert f"background:{background};color:{text}" in page


def test_the_columns_are_the_taxonomys_twelve_in_the_figures_order():
    from openness.classification.taxonomy.rules import COMPONENT_KEYS
    from openness.outputs.report import COLUMNS, FIGURE
    from openness.outputs.report_html import column_names
    assert sorted(COLUMNS) == sorted(COMPONENT_KEYS) and len(set(COLUMNS)) == 12
    assert column_names(FIGURE)[:2] == ["Pretraining code", "Pretraining data"]
    assert column_names(FIGURE)[-2:] == ["Inference code", "Weights"]


def test_evidence_links_lead_to_the_public_hubs_file_at_its_commit_and_line():
    from openness.outputs.report import evidence_entry
    hub = evidence_entry({"url": "https://huggingface.co/org/m/resolve/abc123/README.md", "path": "README.md",
                          "line_start": 12, "snippet": "x" * 1000})
    assert hub["link"] == "https://huggingface.co/org/m/blob/abc123/README.md#L12" and hub["read_from"] is None
    assert len(hub["snippet"]) == 401 and hub["snippet"].endswith("…")
    local = evidence_entry({"url": "http://127.0.0.1:8123/org/m/resolve/abc123/README.md", "path": "README.md"})
    assert local["link"] is None and local["read_from"].startswith("http://127.0.0.1:8123/")  # shown, not linked
    github = evidence_entry({"url": "https://github.com/org/code/blob/main/LICENSE", "path": "LICENSE"})
    assert github["link"] == "https://github.com/org/code/blob/main/LICENSE"


def test_the_matrix_is_paged_and_says_so(report, tmp_path):
    from openness.outputs.report import write_report
    warehouse = str(report.parent.parent / "openness.duckdb")
    written = []
    result = write_report(warehouse, tmp_path / "paged", limit=0, page_size=10,
                          progress=lambda done, total: written.append((done, total)))
    assert (result.pages, result.models_shown, result.models_classified) == (4, 31, 31)
    assert written == [(1, 4), (2, 4), (3, 4), (4, 4)]  # what the CLI's bar is drawn from, on a terminal
    second = (tmp_path / "paged" / "models-2.html").read_text("utf-8")
    assert "Models 11-20 of the 31 most downloaded (31 classified), 10 a page: page 2 of 4." in second
    assert 'href="index.html">previous' in second and 'href="models-3.html">next' in second
    assert "Levels per component" not in second and 'href="index.html">Counts, charts and families' in second
    assert len(json.loads(second.split('id="data">', 1)[1].split("</script>", 1)[0])["models"]) == 10
    (tmp_path / "paged" / "models-notes.html").write_text("mine")  # not a page of ours: kept
    write_report(warehouse, tmp_path / "paged", limit=0, page_size=20)  # fewer pages: the rest go
    assert sorted(p.name for p in (tmp_path / "paged").glob("*.html")) == ["index.html", "models-2.html",
                                                                          "models-notes.html"]


def test_the_page_is_self_contained_and_escapes_card_data(report):
    page = report.read_text("utf-8")
    # nothing from the network: the one script beside the page is the report's own index of its models
    assert re.findall(r'<script src="([^"]+)"', page) == ["report-index.js"] and (report.parent / "report-index.js").is_file()
    assert "<link" not in page and "http://127.0.0.1" not in page.split('id="data"')[0]
    payload = page.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in payload  # no card text can close the data block
    assert "aurora-labs/aurora-7b" in payload and "training.code.pretraining" in page


def test_the_report_loads_in_chromium_without_console_errors(chromium, report, tmp_path):
    run = browse(chromium, report, tmp_path, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_errors(run.stderr) == [], console_errors(run.stderr)
    rows = re.findall(r'<td class="model" title="([^"]+)"', run.stdout)
    assert len(rows) >= 30 and "aurora-labs/aurora-7b" in rows  # the script drew the matrix
    assert "31 of the 31 models on this page" in run.stdout
    # the figure's header: stages, their parts, code and data side by side
    assert re.search(r'<th colspan="6" class="stage">Training</th><th colspan="4" class="stage">Evaluation</th>'
                     r'<th colspan="2" class="stage">Deployment</th>', run.stdout)
    assert 'class="legend"' in run.stdout and 'aria-expanded="false"' in run.stdout  # a family's members, folded
    assert len(re.findall(r'<tr class="member" hidden="">', run.stdout)) == 2
    # not released, stated closed, unknown and not applicable read differently, in text as in colour
    cells = re.findall(r'<td tabindex="0" class="cell (l\w+)" title="[^"]*">([^<]*)</td>', run.stdout)
    kinds: dict[str, set] = {}
    for cls, text in cells:
        kinds.setdefault(text, set()).add(cls)
    assert kinds["?"] == {"lunknown"} and kinds["n/a"] == {"lna"} and kinds["C5"] == {"l5"}
    assert kinds["C1"] == kinds["D1"] == kinds["D1 ✕"] == {"l1"}  # not released; ✕: stated closed


def test_a_later_page_loads_in_chromium_without_console_errors(chromium, report, tmp_path):
    from openness.outputs.report import write_report
    write_report(str(report.parent.parent / "openness.duckdb"), tmp_path / "paged", limit=0, page_size=10)
    run = browse(chromium, tmp_path / "paged" / "models-4.html", tmp_path, "--dump-dom")
    assert run.returncode == 0 and console_errors(run.stderr) == [], run.stderr[-2000:]
    assert len(re.findall(r'<td class="model" title="', run.stdout)) == 1  # models 31-31: no families here
    assert "1 of the 1 models on this page" in run.stdout


def test_the_console_check_sees_errors(chromium, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFunction();</script></body></html>")
    run = browse(chromium, broken, tmp_path, "--dump-dom")
    assert len(console_errors(run.stderr)) >= 1, run.stderr[-2000:]


def test_the_first_screen_holds_the_coloured_matrix(chromium, report, tmp_path):
    shot = tmp_path / "report.png"
    run = browse(chromium, report, tmp_path, "--window-size=1600,1200", f"--screenshot={shot}")
    assert shot.exists(), run.stderr[-2000:]
    width, height, _ = png_pixels(shot)
    assert (width, height) == (1600, 1200)
    # above the fold, the matrix's fully open cells painted in the level-5 blue; the charts come after it
    assert count_colour(shot, (0x08, 0x51, 0x9C), to_row=600) > 2000
    page = report.read_text("utf-8")
    assert page.index('id="matrix"') < page.index("Levels per component")


def test_the_level_chart_has_a_legend_and_its_counts():
    from openness.outputs.report_html import _label_chart
    from openness.outputs.report import COLUMNS, FIGURE
    labels = {key: {} for key in COLUMNS}
    labels["deployment.data.weights"] = {"D5": 15, "D4": 5, "D1": 3, "Unknown": 7}
    chart = _label_chart({"components": list(COLUMNS), "figure": FIGURE, "labels": labels})
    assert all(f">{text}</text>" in chart for text in ("5 fully open", "1 not released", "n/a", "? unknown"))
    counts = re.findall(r'<text class="count"[^>]*>([\d,]+)</text>', chart)
    assert counts == ["15", "5", "3", "7"]


def test_a_page_without_families_shows_no_families_table(report, tmp_path):
    from openness.outputs.report_html import render
    page = json.loads(report.read_text("utf-8").split('id="data">', 1)[1].split("</script>", 1)[0].replace("<\\/", "</"))
    page["families"] = []
    assert 'id="families"' not in render(page) and 'id="families"' in report.read_text("utf-8")


def test_search_and_filters_reach_the_models_of_every_page(chromium, report, tmp_path):
    from openness.outputs.report import write_report
    write_report(str(report.parent.parent / "openness.duckdb"), tmp_path / "paged", limit=0, page_size=10)
    # the page's address carries the search (as another page's list links to it): #search=tiny
    run = subprocess.run([*browse_args(chromium, tmp_path), "--dump-dom",
                          (tmp_path / "paged" / "index.html").as_uri() + "#search=tiny"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and console_errors(run.stderr) == [], run.stderr[-2000:]
    listed = re.findall(r'<li><a href="(models-\d\.html)#search=([^"]+)">([^<]+)</a> \(page (\d)\)</li>', run.stdout)
    assert listed and all(name.startswith("models-") and "tiny" in model for name, _, model, _ in listed)
    count = re.search(r'id="count" class="muted">(\d+) of the 10 models on this page; (\d+) more on other pages', run.stdout)
    assert count and int(count.group(2)) == len(listed)
    everything = json.loads((tmp_path / "paged" / "report-index.js").read_text("utf-8").split("= ", 1)[1].rstrip(";\n"))
    assert int(count.group(1)) + len(listed) == sum("tiny" in entry[0] for entry in everything)


def test_the_cell_panel_shows_the_search_the_component_and_the_hub(chromium, report, tmp_path):
    warehouse = str(report.parent.parent / "openness.duckdb")
    import duckdb
    with duckdb.connect(warehouse, read_only=True) as con:
        model, component = con.execute(
            "SELECT model_id, component FROM latest_classifications WHERE search IS NOT NULL AND inherited_from IS NULL "
            "AND component = 'evaluation.code.safety' ORDER BY model_id LIMIT 1").fetchone()
    run = subprocess.run([*browse_args(chromium, tmp_path), "--dump-dom", report.as_uri() + f"#cell={model}|{component}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and console_errors(run.stderr) == [], run.stderr[-2000:]
    panel = re.search(r'<aside id="panel"[^>]*>(.*?)</aside>', run.stdout, re.S).group(1)
    assert f'<a href="https://huggingface.co/{model}" rel="noopener">{model}</a>' in panel
    assert f'<p title="{component}">Safety code: C1</p>' in panel  # a reader's name, not the key
    assert '<p class="search">searched: card ' in panel
    assert "overflow-wrap:anywhere" in report.read_text("utf-8")  # long addresses wrap in the panel
    rows = re.findall(r'<td class="model" title="([^"]+)"><a href="https://huggingface.co/([^"]+)"', run.stdout)
    assert rows and all(title == link for title, link in rows)  # each model links to its Hub page
