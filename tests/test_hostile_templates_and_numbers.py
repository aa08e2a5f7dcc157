"""Issue 15: same recipe and seed, same bytes (templates print only text and numbers); every
render is bounded; YAML that would be read silently wrong or explode is refused; numbers out
of range are one line and exit 1 before anything is read.

Hostile templates and configs run in a child process with a memory cap (RLIMIT_AS) and a
timeout, so a regression fails the test instead of hanging or swapping the CI machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from komt_data import ConfigError, build, preview
from komt_data.template_sandbox import MAX_RENDER_STEPS

from .conftest import write
from .test_hostile_configs import REVIEWS, nsmc_task

ROOT = Path(__file__).resolve().parents[1]
CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
sys.argv = ["komt-data", *sys.argv[1:]]
from komt_data.cli import main
main()
"""
MEMORY = 1 << 30  # the hostile inputs took 0.4-10 GB before their bounds


def capped(cwd: Path, *args: str, timeout: float = 90, **env: str) -> subprocess.CompletedProcess:
    """``komt-data *args`` in a child limited to MEMORY of address space and ``timeout`` seconds."""
    environ = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "KOMT_DATA_WORKERS": "1",
               "PYTHONPATH": str(ROOT), **env}
    environ.pop("KOMT_DATA_DEBUG", None) if "KOMT_DATA_DEBUG" not in env else None
    return subprocess.run([sys.executable, "-c", CAPPED.format(memory=MEMORY), *args], capture_output=True,
                          text=True, cwd=cwd, env=environ, timeout=timeout)


def template_file(root: Path, instruction: str, response: str = "{{ label }}") -> Path:
    path = root / "hostile.yaml"
    path.write_text("family: classification\ntemplates:\n  - id: classification/01\n"
                    f"    instruction: {orjson.dumps(instruction).decode()}\n"
                    f"    response: {orjson.dumps(response).decode()}\n", encoding="utf-8")
    return path


def refused(tmp_path: Path, instruction: str) -> str:
    """The one error line a build with ``instruction`` ends with (exit 1, no output), under the cap."""
    template_file(tmp_path, instruction)
    nsmc_task(tmp_path, templates="hostile.yaml")
    result = capped(tmp_path, "build", "task.yaml", "-o", "out", "-q")
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out").exists()
    prefix = "komt-data: error: hostile.yaml: template 'classification/01': "
    assert result.stderr.startswith(prefix), result.stderr
    return result.stderr[len(prefix):].rstrip("\n")


# -- point 2: a template renders a pure function of the example and the seed ----------------

@pytest.mark.parametrize("instruction, problem", [
    ("{{ text.strip }}", "'strip' is a method, not text: write strip() to call it"),
    ("{{ joiner() }}", "prints a Joiner object; a template may print only text and numbers"),
    ("{{ '가' ~ cycler('a', 'b') }}", "prints a Cycler object; a template may print only text and numbers"),
    ("{{ [text.upper]|join(', ') }}", "'upper' is a method, not text: write upper() to call it"),
    ("{{ '%s' % text.split }}", "'split' is a method, not text: write split() to call it"),
    ("{{ '{}'.format(text.strip) }}", "'strip' is a method, not text: write strip() to call it"),
    ("{{ text.title|string }}", "'title' is a method, not text: write title() to call it"),
    ("{{ options }}", "prints a list (join it: x|join(', ')); a template may print only text and numbers"),
    ("{{ none }}", "prints none (an empty value); a template may print only text and numbers"),
])
def test_a_template_cannot_print_a_repr(tmp_path, cli, instruction, problem):
    # Before: `<built-in method strip of str object at 0x7f…>` in the training text, an
    # address that differs on every run, and the next build said "up to date".
    template_file(tmp_path, instruction)
    task = nsmc_task(tmp_path, templates="hostile.yaml")
    result = cli("build", str(task), "-o", str(tmp_path / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, (
        f"komt-data: error: {tmp_path / 'hostile.yaml'}: template 'classification/01': SecurityError: {problem}\n"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("instruction, problem", [
    ("{{ text }} {{ lipsum(1) }}", "uses lipsum(), which writes random text: a template must render the same "
                                   "text for the same example and seed"),
    ("{{ options|random }}", "uses the random filter, which ignores the build's seed: a template must render "
                             "the same text for the same example and seed (komt-data already spreads the "
                             "templates by seed)"),
])
def test_unseeded_randomness_is_refused_when_the_template_is_loaded(tmp_path, cli, instruction, problem):
    template_file(tmp_path, instruction)
    task = nsmc_task(tmp_path, templates="hostile.yaml")
    message = f"komt-data: error: {tmp_path / 'hostile.yaml'}: template 'classification/01': {problem}\n"
    assert (cli("validate", str(task)).exit_code, cli("validate", str(task)).stderr) == (1, message)
    assert cli("build", str(task), "-o", str(tmp_path / "out"), "-q").stderr == message


def test_up_to_date_does_not_hide_a_template_that_is_now_refused(tmp_path, cli):
    """An output that an older komt-data built from a lipsum template must not pass for current."""
    from komt_data import freshness, load

    template = template_file(tmp_path, "{{ text }}")
    task = nsmc_task(tmp_path, templates="hostile.yaml")
    out = tmp_path / "out"
    assert cli("build", str(task), "-o", str(out), "-q").exit_code == 0
    template.write_text(template.read_text("utf-8").replace("{{ text }}", "{{ text }} {{ lipsum(1) }}"), "utf-8")
    recipe = load(task)  # what that older build would have recorded for this template
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    manifest["build_fingerprint"] = freshness.build_fingerprint(
        recipe, freshness.recipe_fingerprint(recipe, recipe.seed), limit=None, on_error="skip")
    (out / "manifest.json").write_bytes(orjson.dumps(manifest))
    result = cli("build", str(task), "-o", str(out), "-q")
    assert result.exit_code == 1 and "uses lipsum()" in result.stderr


def test_an_option_given_as_a_yaml_set_is_refused(tmp_path, cli):
    # A set's order changes from run to run (string hashing is salted per process).
    nsmc_task(tmp_path)
    task = write(tmp_path / "task.yaml", (tmp_path / "task.yaml").read_text("utf-8")
                 + "options:\n  task_hint: !!set {영화: null, 리뷰: null}\n")
    result = cli("validate", str(task))
    assert (result.exit_code, result.stderr) == (1, (
        f"komt-data: error: {task}:8: invalid YAML: '!!set' values are not allowed (write text, numbers or lists)\n"))


def test_same_recipe_and_seed_give_the_same_bytes_whatever_the_hash_salt(tmp_path):
    """Two builds in processes with different string-hash salts write identical files."""
    template_file(tmp_path, "{{ text }}\n{% for o in options %}{{ loop.index }}. {{ o }} {% endfor %}"
                            "{{ options|join(' / ') }} {{ '%s(%d)' % (label, options|length) }}")
    nsmc_task(tmp_path, templates="hostile.yaml")
    outputs = []
    for salt in ("1", "2"):
        result = capped(tmp_path, "build", "task.yaml", "-o", f"out{salt}", "-q", PYTHONHASHSEED=salt)
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / f"out{salt}").glob("*.jsonl"))})
    assert outputs[0] == outputs[1] and any(b"1. " in data for data in outputs[0].values())


# -- point 3: every render is bounded ------------------------------------------------------------

STEPS = f"takes more than {MAX_RENDER_STEPS:,} steps (loop iterations and calls, all loops together)"


@pytest.mark.parametrize("instruction, problem", [
    # hung forever: the body renders nothing, so the output bound never fired
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", STEPS),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}", STEPS),
    # 1.8 GB, then 0.4-0.8 GB, before failing
    ("{{ '%0300000000d' % 1 }}", "the % formatting would be longer than 1,000,000 characters"),
    ("{{ text.ljust(300000000) }}", "padding to width 300,000,000 would be longer than 1,000,000 characters"),
    ("{{ text.zfill(300000000) }}", "padding to width 300,000,000 would be longer than 1,000,000 characters"),
    ("{{ text|center(300000000) }}", "padding to width 300,000,000 would be longer than 1,000,000 characters"),
    ("{{ '{:300000000}'.format(text) }}", "the formatted field would be longer than 1,000,000 characters"),
    ("{{ ([text * 25] * 1000000)|join }}", "repetition too large"),
    ("{{ text.replace('', text * 10000) }}", "the replaced text would be longer than 1,000,000 characters"),
    # a list built of itself: printing or comparing it would walk 2**40 items
    ("{% set a = [text] %}" + "{% set a = [a, a] %}" * 40 + "{{ a|length }}",
     "makes a list of more than 1,000,000 items and characters (counting shared ones every time)"),
    ("{% set ns = namespace(s=text) %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "the joined text would be longer than 1,000,000 characters"),
    ("{% for i in range(99999) %}{% if text * 20 == text * 20 %}{% endif %}{% endfor %}",
     "makes or compares more than 10,000,000 characters of text and list items in all"),
    ("{{ (5).to_bytes(1000000000, 'big') }}", "access to attribute 'to_bytes' of 'int' object is unsafe."),
    ("{{ 5|round(-1000000000) }}", "rounding to -1000000000 digits is too many"),
])
def test_templates_that_would_hang_or_take_gigabytes_fail_fast(tmp_path, instruction, problem):
    assert refused(tmp_path, instruction) == f"SecurityError: {problem}"


def test_bounds_leave_ordinary_templates_alone(tmp_path):
    template_file(tmp_path, "{{ text|trim }} [{{ text|length }}] {{ '{:>3}'.format(label) }}\n"
                            "{% for o in options %}{{ '%d) %s' % (loop.index, o) }}{% if not loop.last %}, "
                            "{% endif %}{% endfor %}", "{{ label ~ '입니다' }}")
    manifest = build(nsmc_task(tmp_path, templates="hostile.yaml"), tmp_path / "out")
    assert manifest["tasks"]["nsmc"]["written"] == 2
    record = orjson.loads((tmp_path / "out" / manifest["shards"][0]["path"]).read_bytes().splitlines()[0])
    assert record["instruction"].splitlines()[1] == "1) 부정, 2) 긍정"
    assert record["output"] in ("부정입니다", "긍정입니다")


# -- point 4: YAML alias bombs -------------------------------------------------------------------

def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    levels = "abcdefgh"
    lines = [f"    - &{levels[0]} [{', '.join(['ㅋ'] * 10)}]"]
    lines += [f"    - &{name} [{', '.join([f'*{prev}'] * 10)}]" for prev, name in zip(levels, levels[1:], strict=False)]
    write(tmp_path / "reviews.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", "name: nsmc\nadapter: classification\nsource: {files: reviews.jsonl}\n"
                 "fields: {text: review, label: rating}\nlabels: {\"1\": 부정, \"10\": 긍정}\n"
                 "options:\n  task_hint:\n" + "\n".join(lines) + "\n")
    assert task.stat().st_size < 600  # 10**8 values once expanded
    for command in ("validate", "build"):
        result = capped(tmp_path, command, "task.yaml", timeout=30)
        assert (result.returncode, result.stderr) == (1, (
            "komt-data: error: task.yaml: holds more than 100,000 values once its aliases (*name) are expanded; "
            "write the values out or use fewer nested aliases\n"))


def test_a_value_that_contains_itself_is_refused(tmp_path, cli):
    config = write(tmp_path / "task.yaml", "name: nsmc\noptions:\n  task_hint: &loop [*loop]\n")
    assert cli("validate", str(config)).stderr == (
        f"komt-data: error: {config}: line 3: an alias refers to a value that contains it\n")


def test_aliases_and_merge_keys_within_the_bound_still_work(tmp_path):
    from komt_data.config import read_yaml

    data = read_yaml(write(tmp_path / "x.yaml", "base: &b {a: 1, b: 2}\nover:\n  <<: *b\n  a: 3\nlist: [*b, *b]\n"))
    assert data == {"base": {"a": 1, "b": 2}, "over": {"a": 3, "b": 2}, "list": [{"a": 1, "b": 2}] * 2}


# -- point 5: duplicate keys and colliding labels ------------------------------------------------

TASK = """name: nsmc
adapter: classification
source: {{files: reviews.jsonl}}
fields: {{text: review, label: rating}}
labels: {labels}
"""


@pytest.mark.parametrize("labels, line, key, problem", [
    ('{"1": 부정, "10": 긍정, "10": 부정}', 5, "10", "is given twice in one mapping (line 5); YAML would silently "
                                                  "keep only the last, so remove one"),
    ('\n  "1": 부정\n  "10": 긍정\n  "10": 부정', 8, "10", "is given twice in one mapping (lines 7 and 8); YAML "
                                                       "would silently keep only the last, so remove one"),
])
def test_a_key_given_twice_is_refused(tmp_path, cli, labels, line, key, problem):
    write(tmp_path / "reviews.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", TASK.format(labels=labels))
    result = cli("build", str(task), "-o", str(tmp_path / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, f"komt-data: error: {task}:{line}: key '{key}': {problem}\n")
    assert not (tmp_path / "out").exists()


def test_a_section_given_twice_is_refused(tmp_path, cli):
    write(tmp_path / "reviews.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", TASK.format(labels='{"1": 부정, "10": 긍정}') + "source: {files: x.jsonl}\n")
    assert cli("validate", str(task)).stderr == (
        f"komt-data: error: {task}:6: key 'source': is given twice in one mapping (lines 3 and 6); YAML would "
        "silently keep only the last, so remove one\n")


@pytest.mark.parametrize("labels, key, problem", [
    ('{1: 부정, "1": 긍정}', "labels.1", "1 and '1' are the same label once read as text; keep one"),
    ('{true: 긍정, "true": 부정}', "labels.true", "True and 'true' are the same label once read as text; keep one"),
    ('{"1": yes, "10": 긍정}', "labels.1", "value for '1' must be text, got True"),
    ('{"1": 2.5, "10": 긍정}', "labels.1", "value for '1' must be text, got 2.5"),
    ('{"1": [부정], "10": 긍정}', "labels.1", "value for '1' must be text, got ['부정']"),
    ('{"1": ~, "10": 긍정}', "labels.1", "value for '1' must be text, got None"),
])
def test_labels_that_collide_or_are_not_text_are_refused(tmp_path, cli, labels, key, problem):
    write(tmp_path / "reviews.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", TASK.format(labels=labels))
    assert cli("validate", str(task)).stderr == f"komt-data: error: {task}: key '{key}': {problem}\n"


def test_a_binary_label_is_refused(tmp_path, cli):
    write(tmp_path / "reviews.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", TASK.format(labels='{"1": !!binary 67aA7KCV, "10": 긍정}'))
    assert cli("validate", str(task)).stderr == (
        f"komt-data: error: {task}:5: invalid YAML: '!!binary' values are not allowed (write text, numbers or "
        "lists)\n")


def test_integer_label_keys_still_work(tmp_path):
    write(tmp_path / "reviews.jsonl",
          '{"review": "정말 좋았다", "rating": "1"}\n{"review": "지루했다", "rating": "0"}\n')
    task = write(tmp_path / "task.yaml", TASK.format(labels="{0: 부정, 1: 긍정}"))
    assert [r["output"] for r in preview(task, n=5)] == ["긍정", "부정"]


# -- point 9: numbers out of range, checked before anything is read ------------------------------

@pytest.mark.parametrize("option, value, problem", [
    ("--seed", "18446744073709551616",
     "--seed must be a whole number from 0 to 18446744073709551615 (2**64 - 1), got 18446744073709551616"),
    ("--seed", "-1", "--seed must be a whole number from 0 to 18446744073709551615 (2**64 - 1), got -1"),
    ("--limit", "-1", "--limit must be a whole number of rows from 1 to 9223372036854775807 (or none for every "
                      "row), got -1"),
    ("--limit", "0", "--limit must be a whole number of rows from 1 to 9223372036854775807 (or none for every "
                     "row), got 0"),
])
def test_options_out_of_range_fail_before_reading(tmp_path, cli, option, value, problem):
    task = nsmc_task(tmp_path)
    for command in (["build", "-o", str(tmp_path / "out")], ["build", "--dry-run"]):
        result = cli(*command, str(task), "-q", option, value)
        assert (result.exit_code, result.stderr) == (1, f"komt-data: error: {problem}\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("recipe, key, problem", [
    ("seed: 18446744073709551616\n", "seed", "must be at most 18,446,744,073,709,551,615, got "
                                             "18,446,744,073,709,551,616"),
    ("seed: -1\n", "seed", "must be at least 0"),
    ("output: {shard_size: 9223372036854775808}\n", "output.shard_size",
     "must be at most 9,223,372,036,854,775,807, got 9,223,372,036,854,775,808"),
    ("mixing: {total: 9223372036854775808}\n", "mixing.total",
     "must be at most 9,223,372,036,854,775,807, got 9,223,372,036,854,775,808"),
    ("mixing: {cap: 9223372036854775808}\n", "mixing.cap",
     "must be at most 9,223,372,036,854,775,807, got 9,223,372,036,854,775,808"),
    ("mixing: {temperature: .inf}\n", "mixing.temperature", "must be a finite number, got inf"),
    ("split: {validation: 9223372036854775808}\n", "split.validation",
     "must be at most 9,223,372,036,854,775,807, got 9,223,372,036,854,775,808"),
])
def test_recipe_numbers_out_of_range_are_config_errors(tmp_path, cli, recipe, key, problem):
    nsmc_task(tmp_path)
    path = write(tmp_path / "recipe.yaml", "name: r\ntasks: [task.yaml]\n" + recipe)
    result = cli("build", str(path), "-o", str(tmp_path / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, f"komt-data: error: {path}: key '{key}': {problem}\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("entry, problem", [
    ("{config: task.yaml, weight: .inf}", "must be a finite number, got inf"),
    ("{config: task.yaml, weight: .nan}", "must be a finite number, got nan"),  # silently wrote nothing
    ("{config: task.yaml, weight: 1.0e+300}", "must be at most 1,000,000 (weights are relative: divide them all)"),
    ("{config: task.yaml, cap: 9223372036854775808}", "must be at most 9,223,372,036,854,775,807, got "
                                                      "9,223,372,036,854,775,808"),
])
def test_task_entry_numbers_out_of_range_are_config_errors(tmp_path, cli, entry, problem):
    nsmc_task(tmp_path)
    path = write(tmp_path / "recipe.yaml", f"name: r\ntasks:\n  - {entry}\n")
    key = "tasks[0].cap" if "cap" in entry else "tasks[0].weight"
    assert cli("validate", str(path)).stderr == f"komt-data: error: {path}: key '{key}': {problem}\n"


def test_the_largest_values_allowed_still_build(tmp_path):
    nsmc_task(tmp_path)
    path = write(tmp_path / "recipe.yaml", "name: r\nseed: 18446744073709551615\n"
                 "tasks:\n  - {config: task.yaml, weight: 1000000, cap: 9223372036854775807}\n"
                 "mixing: {total: 9223372036854775807, cap: 9223372036854775807, temperature: 0.05}\n"
                 "output: {shard_size: 9223372036854775807}\n")
    manifest = build(path, tmp_path / "out")
    assert manifest["tasks"]["nsmc"]["written"] == 2 and manifest["seed"] == 2**64 - 1


@pytest.mark.parametrize("kwargs, problem", [
    ({"seed": True}, "seed must be a whole number from 0 to 18446744073709551615 (2**64 - 1), got True"),
    ({"seed": 2**64}, "seed must be a whole number from 0 to 18446744073709551615 (2**64 - 1), got "
                      "18446744073709551616"),
    ({"limit": 1.5}, "limit must be a whole number of rows from 1 to 9223372036854775807 (or none for every "
                     "row), got 1.5"),
    ({"limit": -1}, "limit must be a whole number of rows from 1 to 9223372036854775807 (or none for every "
                    "row), got -1"),
    ({"overwrite": "no"}, "overwrite must be True or False, got 'no'"),
    ({"force": 1}, "force must be True or False, got 1"),
])
def test_python_api_arguments_are_checked_up_front(tmp_path, kwargs, problem):
    with pytest.raises(ConfigError) as caught:
        build(nsmc_task(tmp_path), tmp_path / "out", **kwargs)
    assert str(caught.value) == problem
    assert not (tmp_path / "out").exists()


def test_preview_arguments_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        preview(nsmc_task(tmp_path), seed=-5)
    with pytest.raises(ConfigError, match="n must be a whole number of records, got True"):
        preview(nsmc_task(tmp_path), n=True)


# -- point 12 (parts): environment variables -------------------------------------------------------

def test_debug_zero_means_no_traceback(tmp_path):
    write(tmp_path / "broken.py", "from komt_data import Adapter\n\nclass Broken(Adapter):\n"
          "    family = 'classification'\n    example_fields = ('text', 'label', 'options', 'task_hint')\n\n"
          "    def __init__(self, options=None, labels=None):\n        raise RuntimeError('망가짐')\n")
    write(tmp_path / "reviews.jsonl", REVIEWS)
    write(tmp_path / "task.yaml", TASK.format(labels='{"1": 부정, "10": 긍정}').replace(
        "adapter: classification", "adapter: broken:Broken"))
    for value, traceback in (("0", False), ("false", False), ("", False), ("off", False), ("1", True)):
        result = capped(tmp_path, "build", "task.yaml", "-q", timeout=60, KOMT_DATA_DEBUG=value,
                        PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
        assert ("Traceback" in result.stderr) is traceback, (value, result.stderr)
        if not traceback:
            assert result.returncode == 70 and result.stderr.count("\n") == 1


def test_an_empty_data_dir_variable_is_an_error_not_the_filesystem_root(tmp_path, cli, monkeypatch):
    task = write(tmp_path / "task.yaml", "name: nsmc\nadapter: classification\n"
                 "source: {files: '${KOMT_DATA_DIR}/nsmc/*.jsonl'}\nfields: {text: review, label: rating}\n"
                 'labels: {"1": 부정, "10": 긍정}\n')
    monkeypatch.setenv("KOMT_DATA_DIR", "")
    assert cli("validate", str(task)).stderr == (
        f"komt-data: error: {task}: key 'source.files': environment variable KOMT_DATA_DIR is set but empty "
        "(used in '${KOMT_DATA_DIR}/nsmc/*.jsonl'); set it to the folder that holds this dataset\n")
