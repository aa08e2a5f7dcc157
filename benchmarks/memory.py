#!/usr/bin/env python3
"""Peak RSS of komt-data against the number of input rows (the memory bound of a build).

    .venv/bin/python benchmarks/memory.py                 # 1M and 2M rows
    .venv/bin/python benchmarks/memory.py 1000000 3000000
    .venv/bin/python benchmarks/memory.py --fewshot 0.3 1000000   # with few-shot records

The rows are short NSMC-like reviews (so that the time goes to rows, not bytes), all
distinct, in one JSONL file; each build runs as its own child process and its peak RSS
comes from os.wait4. What should grow with the rows is only stage 2's decisions (a byte of
reason and a byte of split per record): stage 1 writes its per-record numbers to disk
and stage 2 reads them back in bounded passes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KOMT = str(Path(sys.executable).with_name("komt-data"))
TASK = """name: memory
adapter: classification
source:
  files: rows.jsonl
labels: {"0": 부정, "1": 긍정}
templates: classification
"""


def make(path: Path, n: int) -> None:
    rng = random.Random(n)
    syllables = [chr(c) for c in range(0xAC00, 0xAC00 + 2000)]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            words = " ".join("".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(rng.randint(3, 9)))
            out.write(f'{{"text": "{words} {i}", "label": "{i % 2}"}}\n')


RECIPE = """tasks: [task.yaml]
prompting:
  fewshot: {{share: {share}, shots: [1, 5]}}
"""


def main() -> None:
    args = sys.argv[1:]
    fewshot = None
    if args[:1] == ["--fewshot"]:
        fewshot, args = float(args[1]), args[2:]
    sizes = [int(a) for a in args] or [1_000_000, 2_000_000]
    work = HERE / "_work" / "memory"
    work.mkdir(parents=True, exist_ok=True)
    (work / "task.yaml").write_text(TASK, encoding="utf-8")
    (work / "recipe.yaml").write_text(RECIPE.format(share=fewshot), encoding="utf-8")
    target = "task.yaml" if fewshot is None else "recipe.yaml"
    print("| input rows | peak RSS | wall |")
    print("|---:|---:|---:|")
    for n in sizes:
        make(work / "rows.jsonl", n)
        start = time.perf_counter()
        proc = subprocess.Popen([KOMT, "build", target, "-o", "out", "--overwrite", "-q"], cwd=work)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"build of {n} rows failed")
        print(f"| {n:,} | {usage.ru_maxrss / 1024:,.0f} MB | {time.perf_counter() - start:.1f} s |", flush=True)
    (work / "rows.jsonl").unlink()


if __name__ == "__main__":
    main()
