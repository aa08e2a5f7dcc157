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


def _imported_top_level_modules() -> set[str]:
    """Every third-party top-level module the package imports anywhere (AST walk)."""
    import ast

    package = ROOT / "komt_data"
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_runtime_dependencies_are_the_ones_the_package_imports():
    # The list a user installs: no package the code never imports (jsonlines once was one),
    # and every third-party module the code imports is either declared or optional.
    import re

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = sorted(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"])
    assert declared == ["datasets", "jinja2", "numpy", "openpyxl", "orjson", "pandas", "pyarrow", "pyyaml",
                        "tqdm", "typer", "xxhash"]
    module_of = {"pyyaml": "yaml"}
    imported = _imported_top_level_modules()
    for name in declared:
        assert module_of.get(name, name) in imported, f"{name} is declared but never imported"
    # Imported only inside the features that need them (--engine ray, output.tokenizer, ...).
    optional = {"ray", "tokenizers", "transformers"}
    # Always installed with a declared package, whose own API hands them out: the hub client
    # and fsspec come with datasets, markupsafe with jinja2.
    carried = {"huggingface_hub", "fsspec", "markupsafe"}
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "komt_data"}
    undeclared = third_party - {module_of.get(n, n) for n in declared} - optional - carried
    assert not undeclared, f"imported but not declared: {sorted(undeclared)}"
