"""report.html (self-contained, with its plots) and `komt-data stats`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import komt_data
from komt_data.write.figures import histogram
from komt_data.write.finish import read_records
from komt_data.write.report import StatsCollector

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report") / "out"
    return out, komt_data.build(None, out)


def _svgs(html_text: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html_text, flags=re.S)]


def test_report_is_self_contained(built):
    out, _ = built
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r"\b(src|href)=\"(?!#)", text), "the report must not load anything (in-page links only)"
    assert '<meta charset="utf-8">' in text


def test_report_plots_match_the_manifest(built):
    out, manifest = built
    svgs = _svgs((out / "report.html").read_text(encoding="utf-8"))
    titles = [svg.get("aria-label") for svg in svgs]
    assert titles[0] == "Share of the mix per task"
    assert titles[1].startswith("Instruction length") and titles[2].startswith("Output length")
    assert titles[3].startswith("Template usage")
    share_bars = svgs[0].findall(f"{SVG_NS}rect")
    assert [r.find(f"{SVG_NS}title").text.split(":")[0] for r in share_bars] == list(manifest["stats"]["tasks"])
    # One bar per (task, template) used; the bar widths follow the counts.
    usage = {(n, t): c for n, task in manifest["stats"]["tasks"].items() for t, c in task["templates"].items()}
    bars = svgs[3].findall(f"{SVG_NS}rect")
    assert len(bars) == len(usage)
    widest = max(bars, key=lambda r: float(r.get("width")))
    assert widest.find(f"{SVG_NS}title").text.endswith(f": {max(usage.values())}")
    # Histogram bars add up to the number of records.
    total = sum(int(r.find(f"{SVG_NS}title").text.rsplit(": ", 1)[1]) for r in svgs[1].findall(f"{SVG_NS}rect"))
    assert total == sum(manifest["splits"].values())


def test_stage_one_figures_equal_those_of_the_written_records(built):
    # The build takes its figures from stage-1 numbers; counting the shards must agree.
    out, manifest = built
    collector = StatsCollector(manifest["tasks"])
    for split in manifest["splits"]:
        for _ in collector.observe(read_records(out, manifest, split), split):
            pass
    assert manifest["stats"] == collector.result(None)
    # The sample has four tasks, several templates each, and a validation split.
    assert len(manifest["stats"]["tasks"]) == 4 and set(manifest["stats"]["splits"]) == {"train", "validation"}


def test_drops_by_reason_are_plotted_when_there_are_drops(tmp_path):
    from komt_data.write.report import render_html

    manifest = {"name": "x", "seed": 1, "format": "komt", "komt_data_version": "0", "splits": {"train": 1},
                "tasks": {"t": {"read": 3, "written": 1, "splits": {"train": 1}, "license": "CC0-1.0",
                                "dropped": {"unknown_label": 1, "duplicate": 1}}}}
    collector = StatsCollector(["t"])
    list(collector.observe([{"task": "t", "template": "nli/01", "instruction": "가" * 40, "output": "함의"}], "train"))
    manifest["stats"] = collector.result()
    svgs = _svgs(render_html(manifest))
    drops = [s for s in svgs if s.get("aria-label") == "Dropped rows and records by reason"]
    assert len(drops) == 1
    assert sorted(r.find(f"{SVG_NS}title").text for r in drops[0].findall(f"{SVG_NS}rect")) == [
        "duplicate: 1", "unknown_label: 1"]


def test_histogram_bins_double():
    import numpy as np

    hist = histogram(np.array([0, 15, 16, 100, 9000]))
    assert hist["counts"][:2] == [2, 1]
    assert hist["counts"][-1] == 1  # 8192+
    assert sum(hist["counts"]) == 5


def test_stats_command_prints_the_same_figures(cli, built):
    out, manifest = built
    result = cli("stats", str(out))
    assert result.exit_code == 0
    for name, task in manifest["stats"]["tasks"].items():
        assert re.search(rf"^{name}\s+{task['records']}\s+{task['share']:.1%}\s+{len(task['templates'])}\s",
                         result.stdout, flags=re.M)
    p50 = manifest["stats"]["lengths"]["instruction_chars"]["p50"]
    assert re.search(rf"^instruction_chars\s+\d+\s+{p50}\s", result.stdout, flags=re.M)
    assert "Template usage" in result.stdout and "Drops by reason" in result.stdout


def test_stats_on_a_foreign_directory_is_one_line(cli, tmp_path):
    result = cli("stats", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"komt-data: error: {tmp_path} is not a komt-data output (no manifest.json written " \
                            "by komt-data)\n"


def _png_pixels(data: bytes):
    """Decode an 8-bit RGB/RGBA PNG into an (h, w, 3) array (Pillow when installed: the
    fallback below decodes filtered rows in Python, slowly)."""
    try:
        import io

        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int32)
    except ImportError:
        pass
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = header[:4]
    assert depth == 8 and color in (2, 6), f"unexpected PNG type {header}"
    bpp = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.int32)
    prev = np.zeros(width * bpp, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + prev) % 256
        else:  # Sub, Average, Paeth depend on the pixel to the left: decode in order
            row = np.zeros_like(line)
            for x in range(len(line)):
                a = row[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[x] = (line[x] + pred) % 256
        out[y] = row
        prev = row
    return out.reshape(height, width, bpp)[:, :, :3]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs Debian's chromium (.ci/run): there the browser tests must run, never skip.
needs_chromium = pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                                    reason="needs a headless chromium (CI installs it: .ci/run)")


def _screenshot(page: Path, png: Path, width: int, height: int) -> np.ndarray:
    assert CHROMIUM is not None, "CI=true but no chromium: .ci/run installs it with apt-get"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={width},{height}",
                        page.resolve().as_uri()], capture_output=True, timeout=180, check=True)
    return _png_pixels(png.read_bytes())


def _area(pixels: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(pixels == np.array(rgb), axis=2).sum())


@needs_chromium
def test_report_renders_its_plots_in_headless_chromium(built, tmp_path):
    out, manifest = built
    pixels = _screenshot(out / "report.html", tmp_path / "report.png", 1100, 3000)
    # The share-of-mix plot (the first place the second task's orange is painted): each task's
    # bar colour must be painted there, over an area that grows with the task's share.
    palette = [(0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0x59, 0xA1, 0x4F), (0xE1, 0x57, 0x59)]
    orange = np.flatnonzero(np.all(pixels == np.array(palette[1]), axis=2).any(axis=1))
    assert len(orange), "the share-of-mix plot is not painted"
    plot = pixels[max(0, orange[0] - 30):orange[0] + 80]
    areas = [_area(plot, rgb) for rgb in palette]
    assert all(area > 500 for area in areas), areas
    shares = [t["share"] for t in manifest["stats"]["tasks"].values()]
    assert areas.index(max(areas)) == shares.index(max(shares))


@needs_chromium
def test_report_paints_records_checks_and_highlights_in_headless_chromium(tmp_path):
    from tests.test_audit import _project

    out = tmp_path / "out"
    komt_data.build(_project(tmp_path, planted=True, near=True), out)
    pixels = _screenshot(out / "report.html", tmp_path / "report.png", 1100, 16000)
    painted = np.flatnonzero((pixels != 255).any(axis=2).any(axis=1))
    assert painted[-1] < 15900, "the page is longer than the screenshot: make it taller"
    record_box = _area(pixels, (0xEE, 0xF2, 0xF7))
    assert record_box > 200_000, record_box  # the records, as boxes
    boxes = np.all(pixels == np.array((0xEE, 0xF2, 0xF7)), axis=2)
    rows = np.flatnonzero(boxes.sum(axis=1) > 600)
    dark = (pixels[rows] < 90).all(axis=2).sum()
    assert dark > 5_000, dark  # with their text painted in them
    assert _area(pixels, (0xFD, 0xE7, 0xEA)) > 3_000  # the failed checks' rows
    assert _area(pixels, (0xFF, 0xC8, 0x4A)) > 40  # the near-duplicate pair's differing character
    assert _area(pixels, (0x8F, 0xE3, 0xA1)) > 5_000  # the n-grams shared with the evaluation item
    assert _area(pixels, (0x4E, 0x79, 0xA7)) > 5_000  # the plots
    assert _area(pixels, (0xE1, 0x57, 0x59)) > 2_000  # the dominant label's bar, in red
