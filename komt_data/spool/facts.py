"""Stage 1 facts stage 2 needs of every example, computed where the example is at hand.

One :class:`Analyzer` per task turns each cleaned example into :class:`Facts`: the exact
dedup key, the split group, the near-dedup signature and band hashes, and the evaluation
item it copies. They depend on the example alone (never on other rows or on arrival
order), so any worker can compute them for its unit; the decisions that compare examples
are taken in stage 2 on compact arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import xxhash

from ..adapters import get_adapter
from ..config import Recipe, TaskRef
from ..dedup import near as neardup
from ..dedup.contamination import Decontaminator
from ..errors import ConfigError
from ..text import dedup_form, squeeze


class Facts(NamedTuple):
    """What stage 2 needs of one example."""

    # A NamedTuple, not a frozen dataclass: one is made per example (with near dedup or
    # decontamination), and a tuple is built several times faster.

    key_hash: int                 # exact dedup identity (scope-prefixed)
    group_hash: int               # split group: records with equal values share a split
    near: tuple | None            # what near dedup compares, or None without near dedup: (output
                                  # hash, field texts); rows are computed per batch (Analyzer.near_batch)
    contaminated: int             # index of the evaluation item it copies, or -1
    overlap: float                # share of n-grams shared with that item
    eval_texts: tuple[str, ...] | None = None  # with decontamination: the texts compared, when
                                  # contaminated and overlap are still to come (Analyzer.contamination)


class Analyzer:
    """Computes :class:`Facts` for the examples of one task of ``recipe``."""

    def __init__(self, recipe: Recipe, ref: TaskRef, decontaminator: Decontaminator | None = None):
        task = ref.config
        adapter_cls = get_adapter(task.adapter)
        family = adapter_cls.family
        exact = recipe.dedup.exact
        self.key_fields = tuple(exact.fields.get(family, adapter_cls.dedup_fields))
        # The runner's content hash is this very key (family scope, the adapter's dedup fields).
        self.default_key = exact.scope in ("family", "none") and self.key_fields == tuple(adapter_cls.dedup_fields)
        # The scope goes into the key: equal keys are duplicates only within one scope.
        scope = {"family": family, "task": f"task:{task.name}", "recipe": "recipe", "none": f"task:{task.name}"}
        self.scope = exact.scope
        self.prefix = f"{scope[exact.scope]}\x1e".encode()
        own = ref.split is not None and ref.split.sets("group_by")
        self.group_by = ref.split.group_by if own else recipe.split.group_by
        self.near = recipe.dedup.near
        if self.near is not None:
            self.near_fields = near_fields(recipe, task.adapter)
            # What the example teaches besides the compared fields (label, score, answer) must
            # be equal: the exact-dedup fields near dedup does not compare.
            self.near_outputs = tuple(f for f in adapter_cls.dedup_fields if f not in self.near_fields)
            self.family = family
            self._output_hashes: dict[Any, int] = {}  # labels repeat: hashed once each
            self.bands, self.rows = lsh_params(self.near.threshold, self.near.num_perm, len(self.near_fields))
            # Stage 2 holds every task's band hashes in one array: as many per record as the
            # task that needs the most (the same for all at the default settings).
            self.width = max(lsh_params(self.near.threshold, self.near.num_perm,
                                        len(near_fields(recipe, r.config.adapter)))[0] for r in recipe.tasks)
        self.decontaminator = decontaminator
        self.text_fields = adapter_cls.text_fields
        known = set(adapter_cls.example_fields) | set(adapter_cls.fields) | set(adapter_cls.optional_fields)
        for name in self.key_fields + ((self.group_by,) if self.group_by else ()):
            if known and name not in known:
                raise ConfigError(f"task '{task.name}' ({family}) has no example field '{name}' "
                                  f"(have: {', '.join(sorted(known))})", file=str(recipe.path or ""),
                                  key="split.group_by" if name == self.group_by else "dedup.exact.fields")

    @property
    def trivial(self) -> bool:
        """Whether every example's facts follow from its content hash alone (default exact
        key, no split groups, near dedup or decontamination): the runner then makes none."""
        return self.default_key and not self.group_by and self.near is None and self.decontaminator is None

    def __call__(self, example: dict[str, Any], content_hash: int | None = None) -> Facts:
        """The facts of one cleaned example (``content_hash``: the runner's, reused when the
        exact-dedup key is the default one)."""
        if self.default_key and content_hash is not None:
            key_hash = content_hash
        else:
            key = "\x1f".join(dedup_form(str(example.get(name, ""))) for name in self.key_fields).encode()
            key_hash = xxhash.xxh3_64_intdigest(self.prefix + key)
        if self.group_by:
            value = squeeze(str(example.get(self.group_by, "")))
            group_hash = xxhash.xxh3_64_intdigest(b"group\x1e" + value.encode())
        else:
            group_hash = key_hash
        near = None
        if self.near is not None:
            near = (self._output_hash(example), neardup.field_texts(example, self.near_fields, cleaned=True))
        eval_texts = None
        if self.decontaminator is not None:
            eval_texts = tuple(example[name] for name in self.text_fields if isinstance(example.get(name), str))
        return Facts(key_hash, group_hash, near, -1, 0.0, eval_texts)

    def _output_hash(self, example: dict[str, Any]) -> int:
        outputs = self.near_outputs
        try:
            values = example.get(outputs[0]) if len(outputs) == 1 else tuple(map(example.get, outputs))
            found = self._output_hashes.get(values)
        except TypeError:  # an unhashable value (a list of answers)
            return neardup.output_hash(example, outputs, self.family, cleaned=True)
        if found is None:
            found = neardup.output_hash(example, outputs, self.family, cleaned=True)
            if len(self._output_hashes) < 4096:  # answers are many: the cache stays bounded
                self._output_hashes[values] = found
        return found

    def contamination(self, facts: list[Facts]) -> list[tuple[int, float]]:
        """(evaluation item copied or -1, overlap) of each of a batch of facts with
        ``eval_texts``: looked up together, at a fraction of the cost of one at a time."""
        return self.decontaminator.match_many([f.eval_texts for f in facts], cleaned=True)

    def near_batch(self, contents: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """Near-dedup rows (:func:`komt_data.dedup.near.near_rows`) and LSH band hashes (uint32
        rows) of a batch of ``Facts.near`` values: hashing many texts in one numpy pass costs
        a tenth of one text at a time."""
        rows = neardup.near_rows(contents, self.near.shingle, self.near.num_perm)
        return rows, neardup.near_bands(rows, self.near.num_perm, self.bands, self.rows, self.width)


def near_fields(recipe: Recipe, adapter: str) -> tuple[str, ...]:
    """The fields near dedup compares for a task of ``adapter`` in ``recipe``."""
    adapter_cls = get_adapter(adapter)
    return tuple(recipe.dedup.near.fields.get(adapter_cls.family) or adapter_cls.near_dedup_fields
                 or adapter_cls.text_fields)


_LSH_CACHE: dict[tuple[float, int, int], tuple[int, int]] = {}


def lsh_params(threshold: float, num_perm: int, fields: int) -> tuple[int, int]:
    """Cached :func:`komt_data.dedup.near.lsh_params_for`."""
    key = (threshold, num_perm, fields)
    if key not in _LSH_CACHE:
        _LSH_CACHE[key] = neardup.lsh_params_for(threshold, num_perm, fields)
    return _LSH_CACHE[key]
