"""Hugging Face datasets, through ``datasets.load_dataset``.

Integer ClassLabel columns are turned into their label names with the dataset's own
features, never a hard-coded order: KLUE's loader changed its NLI label order once.
"""

from __future__ import annotations

from ..config import SourceConfig
from ..errors import ConfigError, DependencyError
from .base import Rows


def read_hub(source: SourceConfig) -> Rows:
    """Rows of one split of a hub dataset (or a local dataset folder), optionally streamed."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a runtime dependency
        raise DependencyError("reading hub datasets needs `pip install datasets`") from None
    try:
        dataset = datasets.load_dataset(source.hub, source.config, split=source.split, streaming=source.streaming)
    except Exception as exc:  # datasets raises many kinds; the user needs the message
        raise ConfigError(f"cannot load hub dataset '{source.hub}': {exc}".splitlines()[0]) from None
    features = dataset.features or {}
    class_labels = {
        name: feature for name, feature in features.items() if isinstance(feature, datasets.ClassLabel)
    }
    for number, row in enumerate(dataset, 1):
        for name, feature in class_labels.items():
            value = row.get(name)
            if isinstance(value, int) and 0 <= value < feature.num_classes:
                row[name] = feature.int2str(value)
        yield number, row
