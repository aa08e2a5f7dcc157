"""The command line: each command works and every error is one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import write


def test_build_prints_a_per_task_summary(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("build", "-o", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    result = cli("build", "-o", str(out), "--overwrite", "--seed", "9")
    assert result.exit_code == 0
    assert "sample_klue_nli" in result.stdout and "total" in result.stdout
    assert json.loads((out / "manifest.json").read_text())["seed"] == 9


def test_misspelt_key_fails_validate_and_build_with_one_line(cli, tmp_path):
    row = '{"premise": "비가 온다.", "hypothesis": "날씨가 맑다.", "label": "contradiction"}\n'
    data = write(tmp_path / "rows.jsonl", row)
    config = write(tmp_path / "task.yaml", f"name: t\nadapter: nli\nsource:\n  files: {data.name}\ntempaltes: nli\n")
    expected = f"komt-data: error: {config}: key 'tempaltes': unknown key (did you mean 'templates'?)\n"
    for args in (("validate", str(config)), ("build", str(config), "-o", str(tmp_path / "out"))):
        result = cli(*args)
        assert result.exit_code == 1
        assert result.stderr == expected
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_preview_shows_training_text(cli, sample_recipe):
    result = cli("preview", str(sample_recipe.parent / "klue_nli.yaml"), "-n", "2")
    assert result.exit_code == 0
    assert result.stdout.count("### instruction: ") == 2
    assert result.stdout.count("### Response: ") == 2


def test_list_commands(cli):
    adapters = cli("list", "adapters").stdout
    for family in ("qa", "summarization", "nli", "translation"):
        assert family in adapters
    assert "nli" in cli("list", "templates").stdout
    tasks = cli("list", "tasks").stdout
    assert "sample/korquad " in tasks and "kornli_files " in tasks and "kornli_hub " in tasks


def test_every_command_has_an_example_in_its_help(cli):
    for command in ("build", "preview", "validate", "list"):
        result = cli(command, "--help")
        assert result.exit_code == 0
        assert "Example: komt-data " + command in result.stdout


def test_python_dash_m_and_console_script(tmp_path):
    result = subprocess.run([sys.executable, "-m", "komt_data", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("komt-data ")
    missing = subprocess.run([sys.executable, "-m", "komt_data", "build", str(tmp_path / "nope.yaml")],
                             capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == f"komt-data: error: {tmp_path / 'nope.yaml'}: file not found\n"
