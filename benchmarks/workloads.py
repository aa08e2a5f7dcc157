"""Task configs the benchmarks build, taken from the shipped ones so both measure the same task."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shipped config reads NSMC's raw/ folder; the benchmarks read its rows as one .jsonl.gz.
_NSMC_FILES = "${KOMT_DATA_DIR}/nsmc/raw/*.json"


def nsmc_task(path: Path) -> str:
    """The shipped raw-NSMC task config (task_configs/nsmc_raw_files.yaml), reading ``path``."""
    text = (ROOT / "task_configs" / "nsmc_raw_files.yaml").read_text(encoding="utf-8")
    if _NSMC_FILES not in text:
        raise SystemExit(f"task_configs/nsmc_raw_files.yaml no longer reads {_NSMC_FILES}; update {__file__}")
    return text.replace(_NSMC_FILES, str(Path(path).resolve()))
