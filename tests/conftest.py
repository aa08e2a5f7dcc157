"""Shared fixtures: the bundled sample recipe, a CLI runner, and the optional real corpora."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from komt_data.cli import app
from komt_data.resources import sample_recipe_path

# Installed plugin adapters must not change what the suite sees (the plugin test opts back in).
os.environ["KOMT_DATA_DISABLE_PLUGINS"] = "1"
# The CLI's default is one worker per CPU; in-process CLI builds must not fork this process
# (Ray may be running in it). Several workers are tested explicitly (tests/test_workers.py).
os.environ["KOMT_DATA_WORKERS"] = "1"

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# ../shared/corpora next to the checkout (CI lays a copy of shared/ beside the clone).
CORPORA = Path(os.environ.get("KOMT_DATA_CORPORA", ROOT.parent / "shared" / "corpora"))


@pytest.fixture
def sample_recipe() -> Path:
    """The bundled sample recipe that `komt-data build` uses by default."""
    return sample_recipe_path()


@pytest.fixture
def cli():
    """Run the komt-data CLI in-process: ``cli("build", "-o", str(out))`` returns the Result."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def corpora() -> Path:
    """../shared/corpora, or a skip when this checkout has none (a fresh clone)."""
    if not CORPORA.is_dir():
        pytest.skip(f"real corpora not present at {CORPORA}")
    return CORPORA


@pytest.fixture
def kobest_dir(corpora, tmp_path, monkeypatch) -> Path:
    """$KOMT_DATA_DIR holding KoBEST_datarepo/ as a clone has it (v1.0/<Task>/<split>.tsv)."""
    data = tmp_path / "data"
    (data / "KoBEST_datarepo").mkdir(parents=True)
    (data / "KoBEST_datarepo" / "v1.0").symlink_to(corpora / "KoBEST" / "v1.0")
    monkeypatch.setenv("KOMT_DATA_DIR", str(data))
    return data


def kobest_rows(corpora: Path, task: str, split: str = "train", quoting: int = csv.QUOTE_NONE, *,
                strip: bool = False) -> dict[int, dict[str, str]]:
    """Line → row of a real KoBEST file, read with the csv module, independently of komt-data
    (``strip``: cells stripped, for comparing items across splits)."""
    text = (corpora / "KoBEST" / "v1.0" / task / f"{split}.tsv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=quoting)
    header = next(reader)
    rows = {}
    for cells in reader:
        row = dict(zip(header, cells, strict=True))
        rows[reader.line_num] = {k: v.strip() for k, v in row.items()} if strip else row
    return rows


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a small fixture file (parents created) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path
