"""Shared fixtures: the bundled sample recipe, a CLI runner, and the optional real corpora."""

from __future__ import annotations

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


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a small fixture file (parents created) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path
