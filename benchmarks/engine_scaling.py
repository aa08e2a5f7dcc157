#!/usr/bin/env python3
"""Scaling of a build on one machine: local engine, and the Ray engine with 1 and 2 CPUs.

The input is the real NSMC raw-review corpus (712,404 reviews, gzipped JSON Lines),
cut into PARTS files as it would sit on shared storage, built as a sentiment task with
templates_per_example 2. Every build runs in its own process (a fresh Ray each time);
each builds twice (cold: Ray warms its worker processes; warm: steady state, with the
time to the end of stage 1 of the warm build). The
script reports the time Ray took to start, both build times, the peak private memory
(RssAnon) of the driver and of the largest Ray worker, the output size, and a digest of
every output file, which must be the same for every engine.

Usage: benchmarks/engine_scaling.py [--corpus ../shared/corpora/nsmc/nsmc_raw_reviews.jsonl.gz]
                                    [--parts 8] [--rows N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TASK = """\
name: nsmc_raw
adapter: classification
source:
  files: parts/*.jsonl.gz
fields:
  text: review
  label: rating
labels: {"1": 부정, "2": 부정, "3": 부정, "4": 부정, "9": 긍정, "10": 긍정}
options:
  task_hint: 영화 리뷰의 감성
templates: classification
templates_per_example: 2
"""

RECIPE = """\
name: nsmc-scaling
seed: 42
tasks:
  - config: nsmc_raw.yaml
    cap: 400000
split:
  validation: 0.05
"""

CHILD = """\
import json, logging, sys, time
t0 = time.perf_counter()
engine, cpus, recipe, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
init = 0.0
if engine == "ray":
    import ray
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    init = time.perf_counter() - t0
import komt_data
stamps = {}
class Bar:  # the builder opens a "reading" bar for stage 1 and a "writing" bar for stage 3
    def __init__(self, desc, **kwargs):
        self.desc = desc
        stamps[desc + "_open"] = time.perf_counter()
    def update(self, n=1):
        pass
    def close(self):
        stamps[self.desc + "_close"] = time.perf_counter()
times = []
for _ in range(2):  # cold: Ray starts and warms its worker processes; warm: they are reused
    t1 = time.perf_counter()
    m = komt_data.build(recipe, out, overwrite=True, engine=engine, progress=Bar)
    times.append(time.perf_counter() - t1)
stage1 = stamps["reading_close"] - t1
print(json.dumps({"init": init, "cold": times[0], "build": times[1], "stage1": stage1,
                  "written": sum(t["written"] for t in m["tasks"].values())}))
"""


def split_corpus(corpus: Path, parts: int, rows: int | None, directory: Path) -> int:
    (directory / "parts").mkdir(parents=True)
    outs = [gzip.open(directory / "parts" / f"part-{i:03d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1)
            for i in range(parts)]
    lines = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if rows is not None and n >= rows:
                break
            lines.append(line)
    per = -(-len(lines) // parts)
    for i, out in enumerate(outs):
        out.writelines(lines[i * per:(i + 1) * per])
        out.close()
    return len(lines)


def _anon_kb(pid: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


class MemoryPeak(threading.Thread):
    """Peak private memory (RssAnon) of the driver process and of the largest Ray worker.

    RssAnon leaves out file pages (the driver mmaps its spools in stage 3) and the shared
    object-store pages a worker writes its blocks into: what is left is what a process
    itself allocates, which is what a worker's memory limit has to cover.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.driver_pid: str | None = None
        self.driver_kb = 0
        self.worker_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    if pid == self.driver_pid:
                        self.driver_kb = max(self.driver_kb, _anon_kb(pid))
                    elif Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::"):
                        self.worker_kb = max(self.worker_kb, _anon_kb(pid))
                except OSError:
                    continue
            time.sleep(0.2)


def run(engine: str, cpus: int, recipe: Path, out: Path) -> dict:
    watcher = MemoryPeak()
    process = subprocess.Popen([sys.executable, "-c", CHILD, engine, str(cpus), str(recipe), str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher.driver_pid = str(process.pid)
    watcher.start()
    stdout, stderr = process.communicate()
    watcher.stop.set()
    watcher.join()
    if process.returncode:
        raise SystemExit(f"{engine} build failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(driver_mb=watcher.driver_kb / 1024, worker_mb=watcher.worker_kb / 1024)
    digest = hashlib.sha256()
    for path in sorted(out.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    result["digest"] = digest.hexdigest()[:16]
    result["output_mb"] = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/nsmc/nsmc_raw_reviews.jsonl.gz")
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="komt-scaling-") as tmp:
        work = Path(tmp)
        rows = split_corpus(args.corpus, args.parts, args.rows, work)
        (work / "nsmc_raw.yaml").write_text(TASK, encoding="utf-8")
        (work / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
        print(f"{rows} rows in {args.parts} files; {os.cpu_count()} CPUs on this machine")
        print(f"{'engine':<12} {'ray init s':>10} {'cold s':>7} {'warm s':>7} {'stage 1 s':>9} {'rows/s':>8} "
              f"{'driver MB':>9} {'worker MB':>9} {'out MB':>7}  output sha256")
        for engine, cpus in (("local", 1), ("ray", 1), ("ray", 2)):
            r = run(engine, cpus, work / "recipe.yaml", work / f"out-{engine}-{cpus}")
            name = "local" if engine == "local" else f"ray x{cpus}"
            worker = f"{r['worker_mb']:>9.0f}" if engine == "ray" else f"{'-':>9}"
            print(f"{name:<12} {r['init']:>10.1f} {r['cold']:>7.1f} {r['build']:>7.1f} {r['stage1']:>9.1f} "
                  f"{rows / r['build']:>8.0f} "
                  f"{r['driver_mb']:>9.0f} {worker} {r['output_mb']:>7.0f}  {r['digest']}", flush=True)


if __name__ == "__main__":
    main()
