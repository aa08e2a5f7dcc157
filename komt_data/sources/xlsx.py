"""Excel workbooks (AIHub parallel corpora ship as ``.xlsx``), read with openpyxl in read-only mode."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from ..errors import DataError, DependencyError
from .base import MAX_DOCUMENT_BYTES, Rows, document_too_large, open_binary

#: A workbook part that unpacks to more than this many times its packed size is refused as a
#: zip bomb (Apache POI's rule: XML that real spreadsheets hold packs 5-20 times, not 100).
MAX_UNPACK_RATIO = 100
_RATIO_FROM = 1 << 20  # parts under 1 MB unpacked are too small to matter


def read_xlsx(path: Path, sheet: str | None, max_bytes: int = MAX_DOCUMENT_BYTES) -> Rows:
    """Rows of one worksheet (the first, or ``sheet``) under its header row.

    Positions are the worksheet's own row numbers (the header is row 1), so a user can find
    a rejected row in Excel. Fully empty rows are skipped, not counted, like blank lines.
    Numbers stay numbers; the adapter decides whether a number is acceptable text. The
    header is as wide as the sheet says it is (unnamed columns are ``column<N>``).

    openpyxl holds the workbook's shared strings in memory (about 100 bytes a string on top
    of its text), so before it opens anything the zip directory is checked: the workbook
    must unpack to at most ``max_bytes``, and no part over 1 MB to more than
    ``MAX_UNPACK_RATIO`` times its packed size. A workbook that is not a zip, or whose
    sheet breaks off, is a DataError naming it (and the row reached).
    """
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a runtime dependency
        raise DependencyError("reading .xlsx files needs `pip install openpyxl`") from None
    with open_binary(path) as f:
        # openpyxl needs a seekable file; a gzip stream is not one.
        data: Any = io.BytesIO(_read_bounded(f, path, max_bytes)) if path.suffix == ".gz" else path
    _check_unpacked_sizes(data, path, max_bytes)
    try:
        book = openpyxl.load_workbook(data, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean the same to a user
        raise DataError(f"cannot open as an Excel workbook: {exc}", file=str(path)) from None
    number = 0
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataError(f"no sheet '{sheet}' (source.sheet); the workbook has: {', '.join(book.sheetnames)}",
                            file=str(path))
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        header: list[str] | None = None
        for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):  # noqa: B007 - read below
            if header is None:
                if all(v is None for v in values):
                    continue
                header = [_column_name(v, i) for i, v in enumerate(values)]
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            cells = list(values[: len(header)]) + [None] * (len(header) - len(values))
            yield number, dict(zip(header, cells, strict=True))
    except DataError:
        raise
    except Exception as exc:  # a sheet whose XML breaks off or a cell openpyxl cannot convert
        raise DataError(f"cannot read the workbook past row {number:,}: {type(exc).__name__}: {exc}",
                        file=str(path)) from None
    finally:
        book.close()


def _read_bounded(f: Any, path: Path, max_bytes: int) -> bytes:
    data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise document_too_large(path, None, max_bytes, "workbook")
    return data


def _check_unpacked_sizes(data: Any, path: Path, max_bytes: int) -> None:
    """Refuse a workbook that unpacks to more than ``max_bytes`` or holds a zip bomb, from
    its zip directory (zipfile stops at the sizes it declares, so they bound the reading)."""
    try:
        with zipfile.ZipFile(data) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot open as an Excel workbook: {exc}", file=str(path)) from None
    finally:
        if isinstance(data, io.BytesIO):
            data.seek(0)
    total = sum(part.file_size for part in parts)
    if total > max_bytes:
        raise document_too_large(path, total, max_bytes, "workbook unpacked")
    for part in parts:
        if part.file_size > _RATIO_FROM and part.file_size > MAX_UNPACK_RATIO * max(part.compress_size, 1):
            raise DataError(f"{part.filename} unpacks to {part.file_size:,} bytes from {part.compress_size:,} "
                            f"(over {MAX_UNPACK_RATIO} times): refused as a zip bomb", file=str(path))


def _column_name(value: Any, index: int) -> str:
    if value is None:
        return f"column{index + 1}"
    return str(value).replace("\ufeff", "").strip()
