"""How much the last build step (format, card, report) and the up-to-date check cost.

Builds the 712k NSMC raw reviews (../shared/corpora/nsmc) as a sentiment task, timing
stage 1-3 of the core and :func:`komt_data.write.finish.finish` separately, then a no-op
rebuild (the up-to-date check hashes the 39 MB input) and an export per format.

    .venv/bin/python benchmarks/bench_publish.py [--rows N]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from workloads import nsmc_task

import komt_data
from komt_data.write import finish as publish

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=None, help="read at most N rows (default: all)")
    args = parser.parse_args()
    source = CORPORA / "nsmc" / "nsmc_raw_reviews.jsonl.gz"
    finish_time = 0.0
    original = publish.finish

    def timed_finish(*a, **k):
        nonlocal finish_time
        start = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            finish_time += time.perf_counter() - start

    publish.finish = timed_finish
    from komt_data import builder

    builder.finish = timed_finish
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "nsmc.yaml"
        config.write_text(nsmc_task(source), encoding="utf-8")
        out = Path(tmp) / "out"
        start = time.perf_counter()
        manifest = komt_data.build(config, out, limit=args.rows)
        total = time.perf_counter() - start
        written = manifest["tasks"]["nsmc_raw"]["written"]
        print(f"build: {manifest['tasks']['nsmc_raw']['read']} rows read, {written} records, {total:.1f} s "
              f"(finish: format + card + report {finish_time:.1f} s = {finish_time / total:.0%})")
        start = time.perf_counter()
        again = komt_data.build(config, out, limit=args.rows)
        assert again.get("up_to_date"), "expected an up-to-date no-op"
        print(f"up-to-date check: {time.perf_counter() - start:.2f} s")
        for fmt in ("komt-json", "alpaca", "sharegpt", "messages", "parquet", "hf"):
            start = time.perf_counter()
            komt_data.export(out, fmt, Path(tmp) / fmt)
            size = sum(p.stat().st_size for p in (Path(tmp) / fmt).rglob("*") if p.is_file())
            print(f"export {fmt:<9} {time.perf_counter() - start:5.1f} s  {size / 1e6:7.1f} MB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
