"""What report.html's curator sections cost: builds of the 712k raw NSMC reviews with and
without them (stage-1 record checks, the sample read back, rejected rows, the HTML), runs
alternating, medians of wall time; and the report's size.

    .venv/bin/python benchmarks/bench_report.py [--runs 3] [--rows N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from workloads import nsmc_task

import komt_data
from komt_data.spool import checks as line_checks
from komt_data.write import audit

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    checks, gather = line_checks.stage_one_checks, audit.gather
    times: dict[str, list[float]] = {"with": [], "without": []}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        task = Path(tmp) / "nsmc.yaml"
        task.write_text(nsmc_task(CORPORA / "nsmc" / "nsmc_raw_reviews.jsonl.gz"), encoding="utf-8")
        for run in range(args.runs):
            for mode in ("without", "with") if run % 2 else ("with", "without"):
                if mode == "with":
                    line_checks.stage_one_checks, audit.gather = checks, gather
                else:
                    line_checks.stage_one_checks, audit.gather = (lambda runner: None), (lambda *a, **k: None)
                out = Path(tmp) / f"out-{mode}"
                start = time.perf_counter()
                komt_data.build(task, out, limit=args.rows, overwrite=True, force=True, workers=0)
                times[mode].append(time.perf_counter() - start)
                sizes[mode] = (out / "report.html").stat().st_size
    for mode, values in times.items():
        print(f"{mode:8s} median {statistics.median(values):.2f} s  runs {', '.join(f'{v:.2f}' for v in values)}  "
              f"report.html {sizes[mode]:,} bytes")
    share = statistics.median(times["with"]) / statistics.median(times["without"]) - 1
    print(f"report sections add {share:+.1%} to the build")


if __name__ == "__main__":
    main()
