"""The budget of bad rows stage 1 may reject: ``--max-errors``.

``--max-errors`` turns "skip bad rows" into "skip a few bad rows": a whole number is the
most rows the build may reject at reading (over all inputs), a fraction below 1 the most
any one input file may lose. Past it the build stops with a :class:`DataError` (exit 2)
and leaves no output, because a corpus that is mostly garbage usually means a wrong
format, encoding or field map, not dirty data.
"""

from __future__ import annotations

from collections import Counter

from ..errors import ConfigError, DataError


def parse_max_errors(value: str | int | float | None) -> int | float | None:
    """``--max-errors`` as a whole number of rows, or a fraction in (0, 1) (``0.05`` or ``5%``).

    None means no limit.
    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        if text.endswith("%"):
            number: int | float = float(text[:-1]) / 100
        elif isinstance(value, float) or any(ch in text for ch in ".eE"):
            number = float(text)
        else:
            number = int(text)
    except ValueError:
        raise ConfigError(f"--max-errors must be a number of rows or a fraction like 0.05, got {value!r}") from None
    if isinstance(number, float) and not 0 < number < 1:
        raise ConfigError(f"--max-errors as a fraction must be above 0 and below 1, got {value!r}")
    if isinstance(number, int) and number < 0:
        raise ConfigError(f"--max-errors must not be negative, got {value!r}")
    return number


def _top(reasons: Counter) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in reasons.most_common(3))


class ErrorBudget:
    """Counts rows rejected at reading and raises DataError once ``--max-errors`` is exceeded."""

    def __init__(self, max_errors: int | float | None):
        self.max_errors = max_errors
        self.total: Counter = Counter()

    def rejected(self, reason: str, label: str, position: int | None) -> None:
        """Count one rejected row; its file ``label`` and line ``position`` name it if this
        one is one too many."""
        self.total[reason] += 1
        limit = self.max_errors
        if isinstance(limit, int) and sum(self.total.values()) > limit:
            where = f"{label}:{position}"
            raise DataError(f"more than {limit} bad rows, the build stopped at {where} (--max-errors {limit}); "
                            f"most common: {_top(self.total)}. Rerun with --on-error fail to see the first one")

    def unit_done(self, label: str, rows: int, reasons: Counter) -> None:
        """At the end of one input file: stop if it lost more than the allowed fraction."""
        limit = self.max_errors
        bad = sum(reasons.values())
        if isinstance(limit, float) and rows and bad / rows > limit:
            raise DataError(f"{bad:,} of {rows:,} rows rejected ({bad / rows:.1%}), over --max-errors {limit:g}; "
                            f"most common: {_top(reasons)}", file=label)


    def check_segments(self, segments: list) -> None:
        """The same limits, applied once stage 1 ran elsewhere (the ray engine): ``segments``
        are the builder's per-unit results, in recipe order."""
        limit = self.max_errors
        total: Counter = Counter()
        for segment in segments:
            total.update(segment.dropped)
        if isinstance(limit, int) and sum(total.values()) > limit:
            raise DataError(f"{sum(total.values()):,} bad rows, more than --max-errors {limit}; "
                            f"most common: {_top(total)}. Rerun with --on-error fail to see the first one")
        for segment in segments:
            self.unit_done(segment.label, segment.read + segment.expanded, segment.dropped)
