"""Benchmark the mixer on NSMC raw reviews: exact + near dedup, decontamination, total, splits.

Usage: .venv/bin/python benchmarks/bench_mixer_nsmc.py [ROWS [plain|full]]
(ROWS default 100000, 712404 for all; the second argument runs one of the two builds, so
that the peak memory printed is that build's)
Prints wall and CPU seconds for builds without and with near dedup + decontamination,
the drops by reason, and the peak resident memory (ru_maxrss) of this process.
"""

from __future__ import annotations

import gzip
import itertools
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from komt_data import build

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def main(rows: int, only: str | None = None) -> None:
    """Build NSMC twice (plain, then every mixer stage) and print the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="komt-bench-"))
    data = tmp / "nsmc.jsonl.gz"
    with gzip.open(CORPORA / "nsmc" / "nsmc_raw_reviews.jsonl.gz") as src, gzip.open(data, "wb") as dst:
        for line in itertools.islice(src, rows):
            dst.write(line)
    with gzip.open(data) as f:  # 200 real reviews as a stand-in evaluation set
        testset = [line.split(b'"review": "')[1].split(b'"')[0].decode() for line in itertools.islice(f, 1000, 1200)]
    (tmp / "testset.txt").write_text("\n".join(testset) + "\n", encoding="utf-8")
    labels = {str(i): ("부정" if i <= 4 else "중립" if i <= 6 else "긍정") for i in range(1, 11)}
    task = {"name": "nsmc", "adapter": "classification", "source": {"files": str(data)},
            "fields": {"text": "review", "label": "rating"}, "labels": labels}
    (tmp / "nsmc.yaml").write_text(yaml.safe_dump(task, allow_unicode=True), encoding="utf-8")
    plain = {"tasks": [str(tmp / "nsmc.yaml")], "split": {"validation": 0.01}}
    full = {**plain, "dedup": {"near": True}, "decontaminate": [str(tmp / "testset.txt")],
            "mixing": {"total": rows // 2}}
    builds = {"plain": ("exact dedup only", plain), "full": ("near dedup + decontamination + total", full)}
    for key, (name, body) in builds.items():
        if only is not None and key != only:
            continue
        path = tmp / f"{name.split()[0]}.yaml"
        path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
        start, cpu = time.perf_counter(), time.process_time()
        manifest = build(path, tmp / f"out-{name.split()[0]}", overwrite=True)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        task = manifest["tasks"]["nsmc"]
        # CPU time too: on a shared machine the wall clock measures the neighbours.
        print(f"{name}: {task['read']} rows in {seconds:.1f} s wall, {cpu:.1f} s CPU "
              f"({task['read'] / cpu:,.0f} rows per CPU second), "
              f"written {task['written']}, dropped {task['dropped']}")
        if "near_dedup" in manifest:
            print(f"  near-dup clusters: {manifest['near_dedup']['clusters']} "
                  f"sizes {manifest['near_dedup']['cluster_sizes']}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, sys.argv[2] if len(sys.argv) > 2 else None)
