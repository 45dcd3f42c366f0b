"""`openness report`: a static page that loads in a real headless browser (Debian's chromium)
without console errors, whose screenshot shows the coloured matrix and whose rendered DOM holds a
row per model. Chromium is installed by this test's setup when it can be (root, apt-get), else the
browser tests are skipped with the command that would install it."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from conftest import world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.classification.classify import classify_warehouse
from openness.outputs.report import NothingToReport, write_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


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


def browse(chromium: str, page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    """Chromium's log lines for the page's console errors and uncaught exceptions."""
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line and ("ERROR" in line.split("CONSOLE")[0] or "Uncaught" in line)]


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


def count_colour(path: Path, rgb: tuple[int, int, int], from_row: int = 0) -> int:
    width, height, rows = png_pixels(path)
    size = len(rows[0]) // width
    target = bytes(rgb)
    return sum(1 for row in rows[from_row:] for i in range(0, len(row), size) if row[i:i + 3] == target)


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


def test_the_page_is_self_contained_and_escapes_card_data(report):
    page = report.read_text("utf-8")
    assert "<script src" not in page and "<link" not in page and "http://127.0.0.1" not in page.split('id="data"')[0]
    payload = page.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in payload  # no card text can close the data block
    assert "aurora-labs/aurora-7b" in payload and "training.code.pretraining" in page


def test_the_report_loads_in_chromium_without_console_errors(chromium, report, tmp_path):
    run = browse(chromium, report, tmp_path, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_errors(run.stderr) == [], console_errors(run.stderr)
    rows = re.findall(r'<td class="model" title="([^"]+)"', run.stdout)
    assert len(rows) >= 30 and "aurora-labs/aurora-7b" in rows  # the script drew the matrix
    assert "31 of 31 models" in run.stdout


def test_the_console_check_sees_errors(chromium, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFunction();</script></body></html>")
    run = browse(chromium, broken, tmp_path, "--dump-dom")
    assert len(console_errors(run.stderr)) >= 1, run.stderr[-2000:]


def test_a_screenshot_shows_the_coloured_matrix(chromium, report, tmp_path):
    shot = tmp_path / "report.png"
    run = browse(chromium, report, tmp_path, "--window-size=1400,1800", f"--screenshot={shot}")
    assert shot.exists(), run.stderr[-2000:]
    width, height, _ = png_pixels(shot)
    assert (width, height) == (1400, 1800)
    # below the charts, the matrix's fully open cells are painted in the level-5 green
    assert count_colour(shot, (0x1A, 0x7F, 0x37), from_row=1000) > 2000
