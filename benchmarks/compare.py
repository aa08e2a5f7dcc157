#!/usr/bin/env python3
"""Two komt-data installations on the same workloads, builds alternating, in one run.

    .venv/bin/python benchmarks/compare.py OLD/.venv/bin/komt-data .venv/bin/komt-data --repeat 2

For before/after figures of a change: install the old version in another worktree's venv,
then time both here. The workloads are the ones ``run.py`` prepares in ``benchmarks/_work``
(run it once first). Every build runs as its own child process, timed from start to exit,
with its peak RSS from os.wait4; the table shows means.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="the old komt-data executable")
    parser.add_argument("after", help="the new komt-data executable")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=WORK)
    parser.add_argument("--only", help="one workload (a directory name in --workdir: nsmc, qa-300000, ...)")
    parser.add_argument("--workers", type=int, default=1, help="komt-data build --workers")
    args = parser.parse_args()
    workloads = {d.name: d for d in sorted(args.workdir.glob("*")) if (d / "recipe.yaml").is_file()
                 and args.only in (None, d.name)}
    if not workloads:
        raise SystemExit(f"no workloads in {args.workdir}: run benchmarks/run.py first")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            for name, directory in workloads.items():
                for which, exe in (("before", args.before), ("after", args.after)):
                    out = Path(tmp) / which
                    shutil.rmtree(out, ignore_errors=True)
                    start = time.perf_counter()
                    proc = subprocess.Popen([exe, "build", "recipe.yaml", "-o", str(out), "--quiet",
                                             "--workers", str(args.workers)], cwd=directory)
                    _, status, usage = os.wait4(proc.pid, 0)
                    if os.waitstatus_to_exitcode(status) != 0:
                        raise SystemExit(f"{which} build of {name} failed")
                    wall = time.perf_counter() - start
                    results.setdefault((name, which), []).append((wall, usage.ru_maxrss / 1024))
                    print(f"  [{name} {r + 1}/{args.repeat}] {which}: {wall:.2f} s, {usage.ru_maxrss / 1024:.0f} MB",
                          flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end; --workers {args.workers}")
    print("| workload | before | after | speed-up | peak RSS before → after |")
    print("|---|---:|---:|---:|---:|")
    for name in workloads:
        before, after = results[(name, "before")], results[(name, "after")]
        b = sum(w for w, _ in before) / len(before)
        a = sum(w for w, _ in after) / len(after)
        print(f"| {name} | {b:.1f} s | {a:.1f} s | {b / a:.2f} × | "
              f"{max(m for _, m in before):.0f} → {max(m for _, m in after):.0f} MB |")


if __name__ == "__main__":
    main()
