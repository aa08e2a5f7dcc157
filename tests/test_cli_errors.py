"""Every error path of the real ``komt-data`` command prints one line and no traceback,
with the documented exit code (0 ok, 1 config/usage/output, 2 data, 70 bug, 130 interrupted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from komt_data.cli import EXIT_CODES

from .conftest import FIXTURES, write

ROOT = Path(__file__).resolve().parents[1]
NSMC = """name: nsmc
adapter: {adapter}
source: {{files: {data}}}
fields: {{text: review, label: rating}}
labels: {{"1": 부정, "2": 부정, "9": 긍정, "10": 긍정}}
"""
BROKEN_ADAPTER = '''from komt_data import Adapter


class Broken(Adapter):
    family = "classification"
    example_fields = ("text", "label", "options", "task_hint")

    def __init__(self, options=None, labels=None):
        raise RuntimeError("설정을 읽다가 죽었다")
'''


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **env}
    environ.pop("KOMT_DATA_DEBUG", None) if "KOMT_DATA_DEBUG" not in env else None
    return subprocess.run([sys.executable, "-m", "komt_data", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=environ, timeout=120)


def setup(tmp_path: Path) -> None:
    write(tmp_path / "data" / "reviews.jsonl", (FIXTURES / "bad_inputs" / "invalid_json.jsonl").read_text("utf-8"))
    write(tmp_path / "task.yaml", NSMC.format(adapter="classification", data="data/reviews.jsonl"))
    write(tmp_path / "broken_task.yaml", NSMC.format(adapter="broken_adapter:Broken", data="data/reviews.jsonl"))
    write(tmp_path / "broken_adapter.py", BROKEN_ADAPTER)
    write(tmp_path / "typo.yaml", NSMC.format(adapter="classification", data="data/reviews.jsonl") + "lables: {}\n")
    write(tmp_path / "bad.yaml", "name: nsmc\nadapter: [classification\n")
    write(tmp_path / "afile", "")


CASES = {
    "missing config": (["build", "nope.yaml"], 1, "komt-data: error: nope.yaml: file not found"),
    "invalid yaml": (["validate", "bad.yaml"], 1,
                     "komt-data: error: bad.yaml:3: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    "unknown key": (["build", "typo.yaml"], 1,
                    "komt-data: error: typo.yaml: key 'lables': unknown key (did you mean 'labels'?)"),
    "bad row, fail": (["build", "task.yaml", "--on-error", "fail", "-q"], 2,
                      "komt-data: error: data/reviews.jsonl:3: invalid_json: invalid JSON: unexpected end of data "
                      "at column 48"),
    "max errors": (["build", "task.yaml", "--max-errors", "0", "-q"], 2,
                   "komt-data: error: more than 0 bad rows, the build stopped at data/reviews.jsonl:3 "
                   "(--max-errors 0); most common: invalid_json 1. Rerun with --on-error fail to see the first one"),
    "output in input": (["build", "task.yaml", "-o", "data/out", "-q"], 1,
                        "komt-data: error: --output data/out is inside {tmp}/data, which holds the inputs of task "
                        "'nsmc'; write the output outside the input directory"),
    "output under a file": (["build", "task.yaml", "-o", "afile/out", "-q"], 1,
                            "komt-data: error: cannot create {tmp}/afile/out: {tmp}/afile is a file, not a "
                            "directory"),
    "adapter crashes": (["build", "broken_task.yaml", "-q"], 70,
                        "komt-data: internal error: RuntimeError: 설정을 읽다가 죽었다 (set KOMT_DATA_DEBUG=1 for "
                        "the traceback, and please report it)"),
    "export unknown format": (["export", "out", "--format", "jsonx", "-o", "out2"], 1,
                              "komt-data: error: --format: must be one of komt, komt-json, alpaca, sharegpt, "
                              "messages, parquet, hf, got 'jsonx'"),
    "export near-miss prompt": (["export", "out", "--format", "alpaca", "--prompt", "mistarl", "-o", "out2"], 1,
                                "komt-data: error: --prompt: must be one of komt, alpaca, mistral, got 'mistarl' "
                                "(did you mean 'mistral'?)"),
    "preview unknown task": (["preview", "task.yaml", "--task", "kornli"], 1,
                             "komt-data: error: no task 'kornli' in nsmc (have: nsmc)"),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    setup(path)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_path_prints_one_line_and_no_traceback(workdir, case):
    args, code, message = CASES[case]
    result = run(workdir, *args)
    assert result.returncode == code
    assert result.stderr == message.format(tmp=workdir) + "\n"
    assert not (workdir / "out").exists()


def test_export_help_names_every_built_in_format_and_prompt(workdir):
    from komt_data.exports import format_names, prompt_names

    # The help is static text (see cli.export); this keeps it in step with the registries.
    help_text = " ".join(run(workdir, "export", "--help", COLUMNS="200").stdout.split())
    for name in (*format_names(), *prompt_names()):
        assert f" {name}," in help_text or f" {name}, or one a plugin registers" in help_text, name


def test_usage_error_exits_1_not_the_data_error_code(workdir):
    result = run(workdir, "build", "--no-such-option")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: No such option: --no-such-option"


def test_debug_variable_shows_the_traceback_of_a_bug(workdir):
    result = run(workdir, "build", "broken_task.yaml", "-q", KOMT_DATA_DEBUG="1")
    assert result.returncode == 1  # Python's own exit for an uncaught exception
    assert result.stderr.startswith("Traceback")
    assert result.stderr.splitlines()[-1] == "RuntimeError: 설정을 읽다가 죽었다"


def test_exit_codes_are_documented_in_help_and_readme(workdir):
    help_text = run(workdir, "--help").stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, meaning in [("0", "success"), ("1", "configuration"), ("2", "bad input data"), ("70", "internal"),
                          ("130", "interrupted")]:
        assert f"  {code} " in EXIT_CODES and meaning in EXIT_CODES
        line = next(line for line in help_text.splitlines() if line.strip().startswith(f"{code} "))
        assert meaning in line
        assert f"| {code} |" in readme


def test_a_signal_during_imports_is_held_until_they_are_done():
    # Raised in the middle of numpy's import, the interrupt crashed the interpreter (SIGSEGV)
    # on its way out; held, it is raised once the block is over.
    import signal

    from komt_data.errors import Interrupted, signals_held

    before = signal.getsignal(signal.SIGINT)
    reached = []
    with pytest.raises(Interrupted) as raised:
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("end of block")  # not cut short by the signal
    assert reached == ["end of block"] and raised.value.exit_code == 130
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # as after on_signal: cleanup is not cut short
    signal.signal(signal.SIGINT, before)
    with signals_held():  # no signal: the handlers are put back as they were
        pass
    assert signal.getsignal(signal.SIGINT) is before
