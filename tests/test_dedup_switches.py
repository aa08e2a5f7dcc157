"""``dedup: {exact: …, near: …}``: each stage takes true, false or a mapping alike (issue 15)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from komt_data import build
from komt_data.config import load
from komt_data.config.schema import NearDedup
from komt_data.errors import ConfigError

from .mixing_helpers import assert_accounting, recipe


@pytest.mark.parametrize(("dedup", "scope", "near"), [
    ({}, "family", None),
    ({"exact": True}, "family", None),
    ({"exact": None}, "family", None),
    ({"exact": {"scope": "task"}}, "task", None),
    ({"exact": False}, "none", None),
    ({"near": True}, "family", NearDedup()),
    ({"near": False}, "family", None),
    ({"near": None}, "family", None),
    ({"near": {"threshold": 0.9}}, "family", NearDedup(threshold=0.9)),
    ({"exact": False, "near": True}, "none", NearDedup()),
])
def test_each_stage_accepts_true_false_or_settings(tmp_path, dedup, scope, near):
    loaded = load(recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": dedup})).dedup
    assert (loaded.exact.scope, loaded.near) == (scope, near)


@pytest.mark.parametrize(("dedup", "key", "got"), [
    ({"exact": "yes"}, "dedup.exact", "'yes'"),
    ({"exact": 1}, "dedup.exact", "1"),
    ({"near": 0}, "dedup.near", "0"),       # not silently off: 0 is not false
    ({"near": [0.8]}, "dedup.near", "[0.8]"),
])
def test_anything_else_is_one_error_naming_the_key(tmp_path, dedup, key, got):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": dedup})
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value) == f"{path}: key '{key}': must be true, false or a mapping of settings, got {got}"


def test_exact_true_builds_like_the_default_and_false_keeps_duplicates(tmp_path):
    default = build(recipe(tmp_path, {"tasks": ["reviews.yaml"]}, "a.yaml"), tmp_path / "a")
    on = build(recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": {"exact": True}}, "b.yaml"), tmp_path / "b")
    off = build(recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": {"exact": False}}, "c.yaml"), tmp_path / "c")
    assert on["tasks"] == default["tasks"] and default["tasks"]["reviews"]["dropped"] == {"duplicate": 4}
    assert off["tasks"]["reviews"]["dropped"] == {}
    assert off["tasks"]["reviews"]["written"] == default["tasks"]["reviews"]["written"] + 4
    for manifest in (default, on, off):
        assert_accounting(manifest)


def test_the_cli_says_it_in_one_line(tmp_path):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": {"exact": "yes"}})
    result = subprocess.run([sys.executable, "-m", "komt_data", "validate", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == (f"komt-data: error: {path}: key 'dedup.exact': must be true, false or a mapping "
                             "of settings, got 'yes'\n")
