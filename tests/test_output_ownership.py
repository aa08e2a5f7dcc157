"""An output holds only what its build wrote (issue 15): --overwrite deletes exactly the
files the previous manifest lists, verified; inputs inside the output are refused; the
up-to-date check and export verify files by size and digest; workers die with the build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from komt_data import OutputError, build, export
from komt_data.write.output_dir import clear_leftovers, staged_output

from .conftest import write
from .layouts_helpers import without_exclude

REVIEWS = "".join(orjson.dumps({"review": f"{i}번째 리뷰: 배우들 연기가 {'좋았다' if i % 2 else '지루했다'}",
                                "rating": "10" if i % 2 else "1"}).decode() + "\n" for i in range(40))
TASK = """name: nsmc
adapter: classification
source: {{files: {data}}}
fields: {{text: review, label: rating}}
labels: {{"1": 부정, "10": 긍정}}
"""


def task(root: Path, data: str = "reviews.jsonl") -> Path:
    write(root / "reviews.jsonl", REVIEWS)
    return write(root / "task.yaml", TASK.format(data=data))


def tree(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*")}


@pytest.mark.parametrize("foreign", ["notes.txt", "checkpoints/step-100/model.bin"])
def test_overwrite_refuses_an_output_holding_foreign_files_and_deletes_nothing(tmp_path, cli, foreign):
    config = task(tmp_path / "in")
    out = tmp_path / "out"
    build(config, out)
    write(out / foreign, "내 메모")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = cli("build", str(config), "-o", str(out), "--overwrite", "--seed", "7", "-q")
    assert result.exit_code == 1
    top = foreign.split("/")[0] + ("/" if "/" in foreign else "")
    assert result.stderr == (f"komt-data: error: {out} holds files komt-data did not write ({top}); --overwrite "
                             "only deletes the files its manifest.json lists: move them out, or choose another "
                             "--output\n")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    shutil.rmtree(out / top) if top.endswith("/") else (out / foreign).unlink()
    assert cli("build", str(config), "-o", str(out), "--force", "-q").exit_code == 0


def test_a_forged_manifest_gets_nothing_deleted(tmp_path, cli):
    config = task(tmp_path / "in")
    folder = tmp_path / "mine"
    write(folder / "README.md", "내 연구 노트")
    write(folder / "manifest.json", '{"komt_data_version": "0.1.0"}')
    result = cli("build", str(config), "-o", str(folder), "--overwrite", "-q")
    assert result.exit_code == 1
    assert "lists no files with their sizes and digests" in result.stderr
    assert (folder / "README.md").read_text(encoding="utf-8") == "내 연구 노트"
    # A manifest that names the user's file, with a made-up digest, does not get it deleted either.
    write(folder / "manifest.json", orjson.dumps({"komt_data_version": "0.1.0", "files": {
        "README.md": {"bytes": len("내 연구 노트".encode()), "xxh3_128": "0" * 32}}}).decode())
    result = cli("build", str(config), "-o", str(folder), "--overwrite", "-q")
    assert result.exit_code == 1
    assert "README.md is not the file komt-data wrote (its content differs" in result.stderr
    assert (folder / "README.md").read_text(encoding="utf-8") == "내 연구 노트"


def test_the_recipe_inside_its_own_output_is_refused_and_kept(tmp_path, cli):
    out = tmp_path / "out"
    config = task(tmp_path / "in")
    build(config, out)
    inside = write(out / "task.yaml", TASK.format(data=str(tmp_path / "in" / "reviews.jsonl")))
    result = cli("build", str(inside), "-o", str(out), "--overwrite", "-q")
    assert result.exit_code == 1
    assert result.stderr == (f"komt-data: error: --output {out} would hold {inside}, the recipe; "
                             "write the output somewhere else\n")
    assert inside.is_file()


def test_overwrite_deletes_exactly_the_listed_files(tmp_path):
    config = task(tmp_path / "in")
    out = tmp_path / "out"
    first = build(config, out)
    assert set(first["files"]) | {"manifest.json"} == tree(out)
    second = build(config, out, overwrite=True, seed=7)
    assert set(second["files"]) | {"manifest.json"} == tree(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no .out.old-* left


def test_file_url_inputs_inside_the_output_are_refused(tmp_path, cli):
    config = task(tmp_path / "in")
    out = tmp_path / "out"
    build(config, out)
    reader = write(tmp_path / "reader" / "task.yaml", TASK.format(data=f"'file://{out}/*.jsonl'"))
    result = cli("build", str(reader), "-o", str(out), "--force", "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"komt-data: error: --output {out} would hold input file {out}/")
    # file:// inputs in a data folder guard it like local paths do.
    result = cli("build", str(reader), "-o", str(out / "sub"), "-q")
    assert result.exit_code == 1 and "which holds the inputs of task" in result.stderr


def _shard(out: Path) -> Path:
    return out / orjson.loads((out / "manifest.json").read_bytes())["shards"][0]["path"]


@pytest.mark.parametrize("damage", ["truncate", "append", "same-size edit"])
def test_a_damaged_shard_is_not_up_to_date_and_export_refuses_it(tmp_path, cli, damage):
    config = task(tmp_path / "in")
    out = tmp_path / "out"
    build(config, out)
    shard = _shard(out)
    data = shard.read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "append": data + data.splitlines(keepends=True)[0],
               "same-size edit": data.replace("리뷰".encode(), "후기".encode(), 1)}[damage]
    assert damaged != data
    shard.write_bytes(damaged)
    result = cli("export", str(out), "--format", "alpaca", "-o", str(tmp_path / "alpaca"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"komt-data: error: {shard} is not the file komt-data wrote: ")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "alpaca").exists()
    result = cli("build", str(config), "-o", str(out), "--overwrite", "--json")
    assert result.exit_code == 1  # not "up to date"; and a file it cannot verify is not deleted
    assert f"{shard} is not the file komt-data wrote" in result.stderr
    assert shard.read_bytes() == damaged
    shard.unlink()  # the user removes the damaged file: the next build replaces the rest
    assert orjson.loads(cli("build", str(config), "-o", str(out), "--overwrite", "--json").stdout)["status"] == "built"
    assert _shard(out).read_bytes() == data


def test_export_never_reads_outside_the_output(tmp_path, cli):
    config = task(tmp_path / "in")
    out = tmp_path / "deep" / "out"
    build(config, out)
    secret = write(tmp_path / "secret.jsonl", '{"instruction": "비밀", "output": "비밀"}\n')
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    manifest["shards"][0]["path"] = "../../secret.jsonl"
    (out / "manifest.json").write_bytes(orjson.dumps(manifest))
    result = cli("export", str(out), "--format", "alpaca", "-o", str(tmp_path / "alpaca"))
    assert result.exit_code == 1
    assert result.stderr == (f"komt-data: error: {out}/manifest.json names '../../secret.jsonl', which is not "
                             "a file inside the output; this manifest was not written by komt-data\n")
    assert not (tmp_path / "alpaca").exists()
    with pytest.raises(OutputError):
        export(out, "alpaca", tmp_path / "alpaca2")
    assert secret.is_file()


def test_leftovers_of_other_outputs_are_not_matched_by_a_glob(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    other = tmp_path / ".out1.tmp-123"  # another build's: `out[1]` and `o*` globs would catch it
    other.mkdir()
    for name in ("out[1]", "o*"):
        mine = tmp_path / f".{name}.tmp-{dead.pid}"
        mine.mkdir()
        assert clear_leftovers(tmp_path / name) == [mine]
    assert other.is_dir()


def test_an_interrupt_after_the_new_output_is_in_place_is_a_success(tmp_path, monkeypatch):
    config = task(tmp_path / "in")
    out = tmp_path / "out"
    build(config, out, seed=7)
    from komt_data.write import output_dir

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(output_dir, "remove_output", interrupted)
    manifest = build(config, out, overwrite=True)  # no KeyboardInterrupt: the build succeeded
    assert manifest["seed"] != 7 and orjson.loads((out / "manifest.json").read_bytes())["seed"] == manifest["seed"]
    monkeypatch.undo()
    assert clear_leftovers(out) == []  # the old output is still aside under our own (live) pid
    leftover = [p for p in tmp_path.iterdir() if p.name.startswith(".out.old-")]
    assert len(leftover) == 1
    # Interrupted before the rename: the previous output is back in place.
    before = (out / "manifest.json").read_bytes()
    with pytest.raises(KeyboardInterrupt), staged_output(out, True) as stage:
        (stage / "x").write_text("x")
        raise KeyboardInterrupt
    assert (out / "manifest.json").read_bytes() == before


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_9_leaves_no_worker(config: Path, out: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "komt_data", "build", str(config), "-o", str(out), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        assert proc.poll() is None, "the build ended before its workers could be seen"
        workers = _children(proc.pid)
        time.sleep(0.01)
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them to the next test run
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_kill_9_of_the_build_leaves_no_worker_behind(tmp_path):
    root = tmp_path / "in"
    lines = [orjson.dumps({"review": f"{i}번째 관객: 연기가 {'좋았고 결말도 마음에 든다' if i % 2 else '어색했다'}",
                           "rating": "10" if i % 2 else "1"}) for i in range(200_000)]
    write(root / "reviews.jsonl", (b"\n".join(lines) + b"\n").decode())
    config = write(root / "task.yaml", TASK.format(data="reviews.jsonl"))
    _kill_9_leaves_no_worker(config, tmp_path / "out", {**os.environ, "KOMT_DATA_WORKERS": "2"})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_kill_9_of_a_raw_nsmc_build_leaves_no_worker_behind(tmp_path, corpora):
    # The reproduction: the shipped raw-NSMC config (reading the shared corpora's JSON
    # Lines copy of raw/*.json, as the benchmarks do), default workers (two at least).
    from komt_data.resources import bundled_dir

    gz = corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz"
    if not gz.is_file():
        pytest.skip("raw NSMC is not in the corpora")
    config = tmp_path / "nsmc_raw.yaml"
    config.write_text(without_exclude((bundled_dir("task_configs") / "nsmc_raw_files.yaml").read_text(
        encoding="utf-8")).replace(
        "${KOMT_DATA_DIR}/nsmc/raw/*.json", str(gz)), encoding="utf-8")
    env = {**os.environ, "KOMT_DATA_WORKERS": str(max(2, os.cpu_count() or 2))}
    _kill_9_leaves_no_worker(config, tmp_path / "out", env)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_portable_parent_watch_ends_an_orphan(tmp_path):
    # Without PR_SET_PDEATHSIG: a grandchild that only runs the watch thread outlives its
    # parent's kill -9 by at most one interval.
    script = tmp_path / "orphan.py"
    script.write_text(
        "import os, sys, time\n"
        "from komt_data.spool.pool import watch_parent\n"
        "parent = os.getpid()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    watch_parent(parent, 0.05)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "time.sleep(60)\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive


def test_builds_from_different_working_directories_are_byte_identical(tmp_path, monkeypatch):
    config = task(tmp_path / "proj" / "in")
    with open(tmp_path / "proj" / "in" / "reviews.jsonl", "a", encoding="utf-8") as f:
        f.write("{not json\n")  # a rejected row: rejected.jsonl names its file
    monkeypatch.chdir(tmp_path / "proj")
    build(Path("in/task.yaml"), tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    build(config, tmp_path / "b")
    first, second = tmp_path / "a", tmp_path / "b"
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    manifest = orjson.loads((first / "manifest.json").read_bytes())
    assert manifest["tasks"]["nsmc"]["sources"][0]["file"] == "reviews.jsonl"  # relative to its config
    assert manifest["tasks"]["nsmc"]["templates"] == "<bundled>/templates/classification.yaml"
    assert orjson.loads((first / "rejected.jsonl").read_bytes().splitlines()[0])["file"] == "reviews.jsonl"


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    # Sent at several moments of start-up (imports of numpy, typer, the readers): never a traceback.
    seen = set()
    for delay in (0.03, 0.06, 0.1, 0.15, 0.25):
        proc = subprocess.Popen([sys.executable, "-m", "komt_data", "build", "-o", str(tmp_path / f"o{delay}"), "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert "Traceback" not in stderr
        if proc.returncode == -signal.SIGINT:  # before Python itself was up: killed, silently
            assert stderr == ""
            continue
        assert proc.returncode in (0, 130), stderr
        assert len(stderr.splitlines()) <= 1
        seen.add(stderr)
    assert seen  # at least one run was interrupted after Python was up


def test_komt_data_debug_0_keeps_tracebacks_off(tmp_path):
    script = ("import sys, komt_data.builder as b\n"
              "def broken(*a, **k): raise RuntimeError('boom')\n"
              "b.build = broken\n"
              "sys.argv = ['komt-data', 'build', '-o', sys.argv[1], '-q']\n"
              "from komt_data.__main__ import main\n"
              "main()\n")
    for value, traceback in (("0", False), ("", False), ("1", True)):
        result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out")], capture_output=True, text=True,
                                env={**os.environ, "KOMT_DATA_DEBUG": value})
        assert ("Traceback" in result.stderr) is traceback, (value, result.stderr)
        if not traceback:
            assert result.returncode == 70
            assert result.stderr.startswith("komt-data: internal error: RuntimeError: boom")
