"""Task configs the benchmarks build, taken from the shipped ones so both measure the same task."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shipped config reads NSMC's raw/ folder; the benchmarks read its rows as one .jsonl.gz.
_NSMC_FILES = "${KOMT_DATA_DIR}/nsmc/raw/*.json"


def nsmc_task(path: Path) -> str:
    """The shipped raw-NSMC task config (task_configs/nsmc_raw_files.yaml), reading ``path``.

    The shipped config drops the reviews of NSMC's ratings_test.txt (source.exclude); the
    shared corpora have no ratings_test.txt, so the benchmark config reads without it: it
    measures the reading path (all 712k rows read and rendered), not the exclusion set.
    """
    text = (ROOT / "task_configs" / "nsmc_raw_files.yaml").read_text(encoding="utf-8")
    if _NSMC_FILES not in text:
        raise SystemExit(f"task_configs/nsmc_raw_files.yaml no longer reads {_NSMC_FILES}; update {__file__}")
    return without_exclude(text).replace(_NSMC_FILES, str(Path(path).resolve()))


def without_exclude(text: str) -> str:
    """A task config's text without its ``source.exclude`` block (two-space indented YAML)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("  exclude:")), None)
    if start is None:
        raise SystemExit(f"task_configs/nsmc_raw_files.yaml has no source.exclude; update {__file__}")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return "".join(lines[:start] + lines[end:])
