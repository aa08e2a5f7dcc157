"""Line-aligned parallel text: ``corpus.en`` and ``corpus.ko``, line *n* of one translating line *n* of the other."""

from __future__ import annotations

import itertools
from pathlib import Path

from ..errors import DataError
from .base import (
    MAX_LINE_BYTES,
    BadRow,
    Rows,
    bounded_lines,
    detect_encoding,
    has_undecodable,
    line_too_long,
    open_text,
    show_undecodable,
)


def partner_path(path: Path, languages: tuple[str, ...]) -> Path:
    """The file paired with ``path``: same name with the second language's suffix.

    ``path`` must end in ``.<first language>`` (optionally followed by ``.gz``).
    """
    first, second = languages
    gz = path.suffix == ".gz"
    stem = path.name[:-3] if gz else path.name
    if not stem.endswith(f".{first}"):
        raise DataError(f"a text-pair file must end in .{first} (source.languages: [{first}, {second}])",
                        file=str(path))
    return path.with_name(stem[: -len(first)] + second + (".gz" if gz else ""))


def read_text_pair(path: Path, languages: tuple[str, ...], encoding: str, configured: str,
                   max_line_bytes: int = MAX_LINE_BYTES) -> Rows:
    """One row ``{first: line, second: line}`` per line number.

    ``encoding`` is what ``path`` resolved to; the partner file resolves its own when the
    task says ``auto``. Lines past the end of the shorter file are rows too: each is
    reported as ``unaligned``, so a truncated file never passes for a shorter corpus.
    A line over ``max_line_bytes`` or with undecodable bytes in either file rejects its pair.
    """
    first, second = languages
    partner = partner_path(path, languages)
    if not partner.is_file():
        raise DataError(f"the paired file {partner.name} is missing", file=str(path))
    partner_encoding = detect_encoding(partner) if configured == "auto" else configured
    with open_text(path, encoding) as a, open_text(partner, partner_encoding) as b:
        pairs = itertools.zip_longest(bounded_lines(a, max_line_bytes), bounded_lines(b, max_line_bytes))
        for number, (left_line, right_line) in enumerate(pairs, 1):
            left, right = (left_line or (None, 0))[0], (right_line or (None, 0))[0]
            too_long = [pair[1] for pair in (left_line, right_line) if pair is not None and pair[0] is None]
            if too_long:
                yield number, line_too_long(max(too_long), max_line_bytes, "characters")
                continue
            if left is None or right is None:
                have = first if right is None else second
                lacking = second if right is None else first
                raw = show_undecodable((left if right is None else right).rstrip("\r\n"))
                yield number, BadRow("unaligned", f"line {number} exists in the .{have} file only "
                                     f"(the .{lacking} file is shorter)", raw)
                continue
            left, right = left.rstrip("\r\n"), right.rstrip("\r\n")
            if has_undecodable(left) or has_undecodable(right):
                bad = left if has_undecodable(left) else right
                yield number, BadRow("undecodable", "bytes that are not valid in the file's encoding "
                                     "(set source.encoding if the file is in another encoding)", show_undecodable(bad))
                continue
            if not left.strip() and not right.strip():
                continue
            yield number, {first: left, second: right}
