#!/usr/bin/env python3
"""Benchmark komt-data against what users would otherwise write, all timed in one run.

    .venv/bin/python benchmarks/run.py                      # QA 300k rows + raw NSMC, 3 repeats
    .venv/bin/python benchmarks/run.py --rows 1000000 --repeat 5 --pandas

Workloads (built in --workdir, default benchmarks/_work, reused when present):
  qa    python3 ../shared/bench/make_qa_corpus.py N, then each row's answer set to the first
        word of its passage. The generator draws answers at random, so they are not in the
        passage and komt-data would (rightly) reject 98% of rows as answer_not_in_context;
        answer_start is 0 in every row, which the first word makes true. 10% exact duplicates.
  nsmc  ../shared/corpora/nsmc/nsmc_raw_reviews.jsonl.gz (712,404 raw reviews, gzipped):
        classification, ratings 1-4 negative and 9-10 positive (others dropped), the bundled
        classification template set, exact and near dedup (the baselines do exact dedup only).

Every pipeline runs as its own child process, timed from start to exit (imports included),
with its peak RSS from os.wait4. Pipelines alternate within each repeat so that load from
other processes on the machine falls on all of them alike; the table shows medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from workloads import nsmc_task

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
KOMT = str(Path(sys.executable).with_name("komt-data"))

QA_TASK = """name: bench_qa
adapter: qa
source:
  files: qa.jsonl
templates: qa
"""
RECIPE = """name: bench-{name}
seed: 42
tasks:
  - {task}
split:
  validation: 0.01
output:
  shard_size: 100000
{dedup}"""


FEWSHOT = """prompting:
  fewshot: {{share: {share}, shots: [1, 5], max_chars: 4000}}
"""


def prepare(workdir: Path, rows: int, nsmc: Path | None, fewshot: float | None = None) -> dict[str, Path]:
    """Write the inputs and configs once; return workload name -> input file. With ``fewshot``,
    each workload also gets ``recipe-fewshot.yaml``: the same recipe with that share of few-shot records."""
    workdir.mkdir(parents=True, exist_ok=True)
    inputs: dict[str, Path] = {}
    qa = workdir / f"qa-{rows}" / "qa.jsonl"
    if not qa.exists():
        qa.parent.mkdir(parents=True, exist_ok=True)
        raw = qa.with_name("qa.raw.jsonl")
        subprocess.run([sys.executable, str(ROOT.parent / "shared" / "bench" / "make_qa_corpus.py"), str(rows),
                        str(raw)], check=True)
        import orjson

        with open(raw, "rb") as f, open(qa, "wb") as out:
            for line in f:
                row = orjson.loads(line)
                row["answers"]["text"] = [row["context"].split(" ", 1)[0]]
                out.write(orjson.dumps(row) + b"\n")
        raw.unlink()
    (qa.parent / "task.yaml").write_text(QA_TASK, encoding="utf-8")
    (qa.parent / "recipe.yaml").write_text(RECIPE.format(name="qa", task="task.yaml", dedup=""), encoding="utf-8")
    if fewshot is not None:
        (qa.parent / "recipe-fewshot.yaml").write_text(
            RECIPE.format(name="qa", task="task.yaml", dedup="") + FEWSHOT.format(share=fewshot), encoding="utf-8")
    inputs["qa"] = qa
    if nsmc is not None and nsmc.exists():
        d = workdir / "nsmc"
        d.mkdir(exist_ok=True)
        (d / "task.yaml").write_text(nsmc_task(nsmc), encoding="utf-8")
        recipe = RECIPE.format(name="nsmc", task="task.yaml", dedup="dedup:\n  near: true\n")
        (d / "recipe.yaml").write_text(recipe, encoding="utf-8")
        if fewshot is not None:
            (d / "recipe-fewshot.yaml").write_text(recipe + FEWSHOT.format(share=fewshot), encoding="utf-8")
        inputs["nsmc"] = nsmc
    return inputs


def compile_package() -> None:
    """Byte-compile komt_data, as installing its wheel does: an editable install under
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every start (~0.07 s)."""
    subprocess.run([PYTHON, "-c", "import compileall, pathlib, komt_data; "
                    "compileall.compile_dir(pathlib.Path(komt_data.__file__).parent, quiet=1)"], check=True)


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, largest process of the tree) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss * 1024


def count_rows(path: Path) -> int:
    import gzip

    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
        return sum(1 for line in f if line.strip())


def _komt(workers: int) -> str:
    """The table's name of a komt-data build with ``--workers``; the CLI's default is one per CPU."""
    default = ", the default here" if workers == len(os.sched_getaffinity(0)) else ""
    return f"komt-data build (--workers {workers}{default})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000, help="rows of the synthetic QA corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="komt-data --workers to run")
    parser.add_argument("--workdir", type=Path, default=HERE / "_work")
    parser.add_argument("--nsmc", type=Path, default=ROOT.parent / "shared" / "corpora" / "nsmc" /
                        "nsmc_raw_reviews.jsonl.gz")
    parser.add_argument("--only", choices=["qa", "nsmc"], help="run one workload")
    parser.add_argument("--no-hf", action="store_true", help="skip Hugging Face datasets (slow)")
    parser.add_argument("--pandas", action="store_true", help="also run pandas (needs a lot of memory)")
    parser.add_argument("--fewshot", type=float, metavar="SHARE",
                        help="also build each workload with this share of few-shot records (prompting.fewshot)")
    args = parser.parse_args()

    inputs = prepare(args.workdir, args.rows, args.nsmc, args.fewshot)
    compile_package()
    if args.only:
        inputs = {args.only: inputs[args.only]}
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    for name, src in inputs.items():
        d = src.parent if name == "qa" else args.workdir / "nsmc"
        rows = count_rows(src)
        scratch = d / "_out"
        pipelines: dict[str, list[str]] = {}
        for w in args.workers:
            pipelines[_komt(w)] = [KOMT, "build", "recipe.yaml", "-o", str(scratch / "komt"), "--overwrite", "-q",
                                   "--workers", str(w)]
            if args.fewshot is not None:
                pipelines[f"{_komt(w)}, few-shot share {args.fewshot}"] = [
                    KOMT, "build", "recipe-fewshot.yaml", "-o", str(scratch / "komt"), "--overwrite", "-q",
                    "--workers", str(w)]
        pipelines["plain Python floor"] = [PYTHON, str(HERE / "baselines.py"), "floor", name, str(src),
                                           str(scratch / "floor.jsonl")]
        if not args.no_hf:
            pipelines["Hugging Face datasets"] = [PYTHON, str(HERE / "baselines.py"), "hf", name, str(src),
                                                  str(scratch / "hf.jsonl")]
        if args.pandas:
            pipelines["pandas"] = [PYTHON, str(HERE / "baselines.py"), "pandas", name, str(src),
                                   str(scratch / "pandas.jsonl")]
        times: dict[str, list[float]] = {p: [] for p in pipelines}
        peaks: dict[str, int] = {p: 0 for p in pipelines}
        for r in range(args.repeat):
            for label, cmd in pipelines.items():
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir(parents=True)
                env_cache = scratch / "hf-cache"
                os.environ["HF_DATASETS_CACHE"] = str(env_cache)  # a cold cache every run
                seconds, peak = timed(cmd, d)
                times[label].append(seconds)
                peaks[label] = max(peaks[label], peak)
                print(f"  [{name} {r + 1}/{args.repeat}] {label}: {seconds:.2f} s, {peak / 2**20:.0f} MB",
                      flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        floor = statistics.median(times["plain Python floor"])
        one = statistics.median(times[_komt(args.workers[0])])
        print(f"\n{name}: {rows:,} input rows, medians of {args.repeat} runs")
        print("| pipeline | records/s | × floor | peak RSS |")
        print("|---|---:|---:|---:|")
        for label in pipelines:
            t = statistics.median(times[label])
            print(f"| {label} | {rows / t:,.0f} | {floor / t:.2f} | {peaks[label] / 2**20:,.0f} MB |")
        for w in args.workers[1:]:
            t = statistics.median(times[_komt(w)])
            print(f"--workers {w} vs --workers {args.workers[0]}: {one / t:.2f}x")
        if args.fewshot is not None:
            for w in args.workers:
                zero = statistics.median(times[_komt(w)])
                few = statistics.median(times[f"{_komt(w)}, few-shot share {args.fewshot}"])
                print(f"few-shot share {args.fewshot} vs zero-shot, --workers {w}: {few / zero:.2f}x the time")
        print(flush=True)


if __name__ == "__main__":
    main()
