"""A built output for notebooks: ``out = komt_data.open("out")``, then pandas or datasets views.

Nothing is read until asked for; pandas and datasets are imported only by the methods that
return their objects.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from .errors import OutputError
from .write.output_dir import REJECTED, load_verified


class Output:
    """One komt-data output directory: its manifest, records, rejected rows and checks."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest: dict[str, Any] = load_verified(self.path)

    def __repr__(self) -> str:
        return f"Output({str(self.path)!r}: {self.manifest.get('splits')})"

    @property
    def stats(self) -> dict[str, Any]:
        """The figures of report.html (manifest.json's ``stats``)."""
        return self.manifest.get("stats", {})

    @property
    def splits(self) -> list[str]:
        """The splits written (train, validation, test)."""
        return list(self.manifest["splits"])

    def _files(self, split: str) -> list[Path]:
        if split not in self.manifest["splits"]:
            raise OutputError(f"{self.path} has no split '{split}' (have: {', '.join(self.splits)})")
        return [self.path / s["path"] for s in self.manifest["shards"] if s["split"] == split]

    def records(self, split: str = "train"):
        """The records of ``split`` as dicts, in written order (komt, alpaca, sharegpt and
        messages JSONL, komt-json arrays)."""
        for path in self._files(split):
            if path.suffix == ".json":
                yield from orjson.loads(path.read_bytes())
            elif path.suffix == ".jsonl":
                with open(path, "rb") as f:
                    for line in f:
                        yield orjson.loads(line)
            else:
                yield from self.to_pandas(split).to_dict("records")
                return

    def to_pandas(self, split: str = "train"):
        """The records of ``split`` as a pandas DataFrame."""
        import pandas as pd

        files = self._files(split)
        if files and all(p.suffix == ".parquet" for p in files):
            return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
        if self.manifest.get("format") == "hf":
            return self.dataset(split).to_pandas()
        return pd.DataFrame.from_records(list(self.records(split)))

    def dataset(self, split: str = "train"):
        """The records of ``split`` as a Hugging Face ``datasets.Dataset`` (in memory, no cache files)."""
        import datasets

        self._files(split)  # a split the output has
        if self.manifest.get("format") == "hf":  # a DatasetDict saved with save_to_disk
            return datasets.load_from_disk(str(self.path))[split]
        return datasets.Dataset.from_pandas(self.to_pandas(split), preserve_index=False)

    def rejected(self, as_dataset: bool = False):
        """rejected.jsonl as a DataFrame (nested rows and records stay dicts), or as a
        ``datasets.Dataset`` with ``as_dataset`` (nested values as JSON text, since rows of
        different sources do not share one schema)."""
        import pandas as pd

        path = self.path / REJECTED
        rows = []
        if path.is_file():
            with open(path, "rb") as f:
                rows = [orjson.loads(line) for line in f]
        frame = pd.DataFrame.from_records(rows)
        if not as_dataset:
            return frame
        import datasets

        for column in frame.columns:
            if frame[column].map(lambda v: isinstance(v, (dict, list))).any():
                frame[column] = frame[column].map(lambda v: None if v is None or v != v else orjson.dumps(v).decode()
                                                  if isinstance(v, (dict, list)) else str(v))
        return datasets.Dataset.from_pandas(frame, preserve_index=False)

    @cached_property
    def checks(self) -> dict[str, Any]:
        """:func:`komt_data.write.audit.audit` of this output (read once)."""
        from .write.audit import audit

        return audit(self.path)


def open_output(path: str | Path) -> Output:
    """Open a built output (``komt_data.open``); OutputError when ``path`` is not one."""
    return Output(path)
