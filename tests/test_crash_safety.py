"""Crash safety with real processes: ``kill -9`` at any moment leaves the previous output or
none, never a partial one; the next build clears the leftovers and writes the same bytes;
Ctrl-C (SIGINT) and SIGTERM remove the temporary files and exit 130 / 143."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from komt_data import build
from komt_data.write.output_dir import clear_leftovers

from .conftest import write

ROWS = 8_000


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> Path:
    """A classification task over generated NSMC-style reviews, big enough to kill mid-way."""
    root = tmp_path_factory.mktemp("crash")
    lines = []
    for i in range(ROWS):
        review = f"{i}번째 관객: 배우들 연기가 {'좋았고 결말도 마음에 든다' if i % 2 else '어색하고 이야기가 지루했다'}"
        lines.append(orjson.dumps({"review": review, "rating": "10" if i % 2 else "1", "review_id": str(i)}))
    (root / "reviews.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    config = write(root / "task.yaml", """name: nsmc
adapter: classification
source: {files: reviews.jsonl}
fields: {text: review, label: rating}
labels: {"1": 부정, "10": 긍정}
options: {task_hint: 영화 리뷰의 감성}
""")
    write(root / "recipe.yaml", "name: crash\ntasks: [task.yaml]\nsplit: {validation: 0.1}\n"
          "output: {shard_size: 200}\n")
    return config.parent / "recipe.yaml"


@pytest.fixture(scope="module")
def reference(task, tmp_path_factory) -> dict[str, bytes]:
    """The bytes of an uninterrupted build."""
    out = tmp_path_factory.mktemp("reference") / "out"
    build(task, out)
    return snapshot(out)


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def assert_complete(out: Path) -> None:
    """Every shard the manifest lists is there with its checksum, and no work file is left."""
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    for shard in manifest["shards"]:
        assert hashlib.sha256((out / shard["path"]).read_bytes()).hexdigest() == shard["sha256"]
    names = {p.name for p in out.iterdir()}
    assert {s["path"] for s in manifest["shards"]} | {"manifest.json", "rejected.jsonl"} <= names
    assert not any(name.startswith(("_", ".")) for name in names)  # no spool, no temporary file


def start_build(recipe: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "komt_data", "build", str(recipe), "-o", str(out), "-q", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen, staging: Path, pattern: str) -> None:
    """Poll until the staging directory holds a file matching ``pattern`` (or fail)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if staging.is_dir() and any(staging.glob(pattern)):
            return
        assert proc.poll() is None, f"the build ended before it could be stopped: {proc.communicate()}"
        time.sleep(0.002)
    proc.kill()
    pytest.fail(f"no {pattern} appeared in {staging}")


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.mark.parametrize("moment", ["_spool/*.jsonl", "train-*.jsonl"], ids=["reading", "writing-shards"])
def test_sigkill_leaves_no_output_and_the_next_build_is_identical(task, reference, tmp_path, moment):
    out = tmp_path / "out"
    proc = start_build(task, out)
    staging = tmp_path / f".out.tmp-{proc.pid}"
    wait_for(proc, staging, moment)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert siblings(out) == [staging.name]  # what the killed build left behind
    rebuild = subprocess.run([sys.executable, "-m", "komt_data", "build", str(task), "-o", str(out), "-q"],
                             capture_output=True, text=True)
    assert rebuild.returncode == 0, rebuild.stderr
    assert siblings(out) == []
    assert_complete(out)
    assert snapshot(out) == reference


def test_sigkill_during_overwrite_keeps_the_previous_output(task, reference, tmp_path):
    out = tmp_path / "out"
    build(task, out, seed=7)  # a previous, different build
    previous = snapshot(out)
    assert previous != reference
    proc = start_build(task, out, "--overwrite", "--seed", "42")
    wait_for(proc, tmp_path / f".out.tmp-{proc.pid}", "train-*.jsonl")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot(out) == previous
    assert_complete(out)
    build(task, out, overwrite=True, seed=42)
    assert siblings(out) == []
    assert snapshot(out) == reference


def test_a_kill_between_the_two_renames_puts_the_previous_output_back(task, tmp_path):
    out = tmp_path / "out"
    build(task, out)
    previous = snapshot(out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that is surely not running any more
    # The state a build killed after "out -> .out.old-PID" and before ".out.tmp-PID -> out" leaves.
    os.rename(out, tmp_path / f".out.old-{dead.pid}")
    (tmp_path / f".out.tmp-{dead.pid}").mkdir()
    assert clear_leftovers(out) == [tmp_path / f".out.tmp-{dead.pid}"]
    assert snapshot(out) == previous
    # The same state met by the next build: the previous output is back, and up to date.
    os.rename(out, tmp_path / f".out.old-{dead.pid}")
    assert build(task, out).get("up_to_date") is True
    assert siblings(out) == []
    assert snapshot(out) == previous


@pytest.mark.parametrize("sig, code, note", [(signal.SIGINT, 130, ""), (signal.SIGTERM, 143, " (SIGTERM)")])
def test_interrupt_removes_temporary_files_and_keeps_the_previous_output(task, tmp_path, sig, code, note):
    out = tmp_path / "out"
    build(task, out, seed=7)
    previous = snapshot(out)
    proc = start_build(task, out, "--overwrite")
    wait_for(proc, tmp_path / f".out.tmp-{proc.pid}", "_spool/*.jsonl")
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert stderr == f"komt-data: interrupted{note}; temporary files removed, no output written\n"
    assert siblings(out) == []
    assert snapshot(out) == previous
