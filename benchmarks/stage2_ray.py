#!/usr/bin/env python3
"""Stage 2 alone: the local engine's decisions against the same decisions made on Ray Data.

Stage 1 runs once, locally, on the real NSMC raw-review corpus cut into PARTS files
(near dedup on, so MinHash band hashes and spooled signatures are part of stage 2). Then
stage 2 runs with the local engine (``decide.steps.run`` plus the lexsort order) and with
``ray_decide.decide`` on a local Ray of 1 and of 2 CPUs (twice each: cold, then warm), each
in the same process; the script checks that every decision array and every split's order
is identical and reports the times.

Usage: benchmarks/stage2_ray.py [--corpus ../shared/corpora/nsmc/nsmc_raw_reviews.jsonl.gz]
                                [--parts 8] [--rows 200000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine_scaling import TASK, split_corpus  # noqa: E402

from komt_data import load  # noqa: E402
from komt_data.decide import contract, steps  # noqa: E402
from komt_data.decide.in_memory import InMemory, gather  # noqa: E402
from komt_data.decide.keys import ORDER, seeded_keys  # noqa: E402
from komt_data.sources import MAX_LINE_BYTES  # noqa: E402
from komt_data.spool.budget import ErrorBudget  # noqa: E402
from komt_data.spool.contract import NoProgress  # noqa: E402
from komt_data.spool.local import runners, spool_local  # noqa: E402

RECIPE = """\
name: nsmc-stage2
seed: 42
tasks:
  - config: nsmc_raw.yaml
    cap: 100000
split:
  validation: 0.05
dedup:
  near: {threshold: 0.8}
"""


def local_stage2(recipe, seed, segments, arrays):
    decisions = steps.run(recipe, InMemory(recipe, seed, segments, arrays))
    keys = seeded_keys(arrays.ids, seed, ORDER)
    orders = {}
    for code in contract.SPLIT_NAMES:
        members = np.flatnonzero(decisions.split == code)
        orders[code] = members[np.lexsort((arrays.ids[members], keys[members]))]
    return decisions, orders


def same(a, b) -> bool:
    (da, oa), (db, ob) = a, b

    def arrays(d):  # first_of, near_of and similarity are Pointers: their records and values
        return [d.reason, d.split, *(getattr(getattr(d, f), part) for f in ("first_of", "near_of", "similarity")
                                     for part in ("index", "value"))]

    return (all(np.array_equal(x, y) for x, y in zip(arrays(da), arrays(db), strict=True)) and da.plan == db.plan
            and da.cluster_sizes == db.cluster_sizes and all(np.array_equal(oa[c], ob[c]) for c in oa))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/nsmc/nsmc_raw_reviews.jsonl.gz")
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    import ray

    from komt_data.engines import ray_decide

    with tempfile.TemporaryDirectory(prefix="komt-stage2-") as tmp:
        work = Path(tmp)
        rows = split_corpus(args.corpus, args.parts, args.rows, work)
        (work / "nsmc_raw.yaml").write_text(TASK, encoding="utf-8")
        (work / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
        recipe = load(work / "recipe.yaml")
        spool = work / "spool"
        spool.mkdir()
        t = time.perf_counter()
        segments = spool_local(runners(recipe, recipe.seed), spool, limit=None, on_error="skip",
                               max_line_bytes=MAX_LINE_BYTES, workers=1, bar=NoProgress(), budget=ErrorBudget(None))
        arrays = gather(recipe, segments)
        print(f"{rows} rows in {args.parts} files, {len(arrays.ids)} records; stage 1 (local) "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        reference = local_stage2(recipe, recipe.seed, segments, arrays)
        print(f"local stage 2: {time.perf_counter() - t:.1f} s", flush=True)
        for cpus in (1, 2):
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
            times = []
            for _ in range(2):
                t = time.perf_counter()
                result = ray_decide.decide(ray, recipe, recipe.seed, segments, arrays)
                times.append(time.perf_counter() - t)
                if not same(result, reference):
                    raise SystemExit(f"ray x{cpus}: decisions differ from the local engine's")
            ray.shutdown()
            print(f"ray x{cpus} stage 2: cold {times[0]:.1f} s, warm {times[1]:.1f} s, same decisions", flush=True)


if __name__ == "__main__":
    main()
