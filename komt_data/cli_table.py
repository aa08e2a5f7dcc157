"""Plain-text tables that line up Korean text (wide characters count as two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: Sequence[Sequence[str]], *, left: Sequence[int] = (0,), total_row: bool = False) -> str:
    """Rows of cells as aligned columns with a rule under the header; ``left`` columns align left.

    With ``total_row`` a second rule sets the last row (a total) apart.
    """
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c + " " * (w - width(c)) if i in left else " " * (w - width(c)) + c
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0 or (total_row and n == len(rows) - 2):
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
