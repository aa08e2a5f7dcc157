"""The wheel carries the templates, task configs and sample recipe, and works from site-packages."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(dist),
         str(ROOT)],
        check=True, capture_output=True,
    )
    (path,) = dist.glob("komt_data-*.whl")
    return path


def test_wheel_contains_bundled_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "komt_data/_bundled/templates/nli.yaml" in names
    assert "komt_data/_bundled/task_configs/sample/recipe.yaml" in names
    assert "komt_data/_bundled/task_configs/sample/data/korquad_sample.json" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_builds_the_sample_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import json, sys, komt_data; "
        "assert '_bundled' in komt_data.resources.sample_recipe_path().parts, komt_data.__file__; "
        "m = komt_data.build(None, 'out'); print(json.dumps(m['splits']))"
    )
    # Run from an unrelated folder with the unpacked wheel first on the path (dependencies
    # come from this environment); the assertion proves the bundled copy was used.
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code],
                            cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    splits = json.loads(result.stdout)
    assert splits["train"] > 100
