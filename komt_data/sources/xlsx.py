"""Excel workbooks (AIHub parallel corpora ship as ``.xlsx``), read with openpyxl in read-only mode."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import DataError, DependencyError
from .base import Rows, open_binary


def read_xlsx(path: Path, sheet: str | None) -> Rows:
    """Rows of one worksheet (the first, or ``sheet``) under its header row.

    Positions are the worksheet's own row numbers (the header is row 1), so a user can find
    a rejected row in Excel. Fully empty rows are skipped, not counted, like blank lines.
    Numbers stay numbers; the adapter decides whether a number is acceptable text.
    """
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a runtime dependency
        raise DependencyError("reading .xlsx files needs `pip install openpyxl`") from None
    with open_binary(path) as f:
        # openpyxl needs a seekable file; a gzip stream is not one.
        data: Any = io.BytesIO(f.read()) if path.suffix == ".gz" else path
    try:
        book = openpyxl.load_workbook(data, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean the same to a user
        raise DataError(f"cannot open as an Excel workbook: {exc}", file=str(path)) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataError(f"no sheet '{sheet}' (source.sheet); the workbook has: {', '.join(book.sheetnames)}",
                            file=str(path))
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        header: list[str] | None = None
        for number, values in enumerate(rows, 1):
            if header is None:
                if all(v is None for v in values):
                    continue
                header = [_column_name(v, i) for i, v in enumerate(values)]
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            cells = list(values[: len(header)]) + [None] * (len(header) - len(values))
            yield number, dict(zip(header, cells, strict=True))
    finally:
        book.close()


def _column_name(value: Any, index: int) -> str:
    if value is None:
        return f"column{index + 1}"
    return str(value).replace("\ufeff", "").strip()
