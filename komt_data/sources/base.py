"""What every reader yields, and how text files are opened.

A reader is a generator of ``(position, row)`` pairs for one file: ``position`` is the
1-based line for line formats and the 1-based row for the others; ``row`` is a dict,
or a :class:`BadRow` when that row cannot be read. Readers never stop on a bad row:
the builder decides whether to skip it or fail.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, AnyStr

from ..errors import DataError
from ..storage import URL, open_url

Rows = Iterator[tuple[int, "dict[str, Any] | BadRow"]]

READ_BLOCK = 1 << 20
_SAMPLE_CHUNKS = 8  # megabytes weighed by encoding detection when a file is not clean UTF-8

#: The longest line (in bytes, or characters for non-UTF-8 text) a line reader accepts.
#: Longer lines are rejected as ``line_too_long`` without ever being held in memory whole.
MAX_LINE_BYTES = 10_000_000

#: The largest input read as one whole document (a JSON, SQuAD or AIHub JSON file, what a
#: ``.xlsx`` unpacks to), checked before it is read: parsing one holds it all in memory.
MAX_DOCUMENT_BYTES = 1 << 30

# Text is decoded with ``surrogateescape``: a byte that is not valid in the encoding
# becomes a lone surrogate U+DC80..U+DCFF, which no real text contains. Readers look
# for them to reject exactly the rows that hold such bytes, with their line.
ESCAPED = re.compile("[\udc80-\udcff]")
_HANGUL = re.compile("[\uac00-\ud7a3]")


@dataclass(frozen=True)
class BadRow:
    """A row that could not be read: why (a manifest reason), what exactly, and its raw text."""

    reason: str
    detail: str
    raw: str | None = None


def open_binary(path: Path | URL) -> IO[bytes]:
    """Open a file (or an fsspec URL) for reading bytes, transparently un-gzipping ``.gz``."""
    if isinstance(path, URL):
        return open_url(path)
    if path.suffix == ".gz":
        return io.BufferedReader(_Gunzip(path), buffer_size=READ_BLOCK)
    return open(path, "rb")


class _Gunzip(io.RawIOBase):
    """A ``.gz`` file's bytes, where a truncated or corrupt file is a DataError naming it
    (gzip raises a bare EOFError or BadGzipFile at whatever read meets the damage)."""

    def __init__(self, path: Path):
        self._path = path
        self._file = gzip.open(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._file.readinto(buffer)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise DataError(f"not a valid gzip file: {exc}", file=str(self._path)) from None

    # Seekable, as gzip.open's file is (slowly: by decompressing), for readers that need it
    # (a .parquet.gz read through pyarrow).
    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._file.seek(offset, whence)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise DataError(f"not a valid gzip file: {exc}", file=str(self._path)) from None

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
        super().close()


def detect_encoding(path: Path) -> str:
    """The encoding ``auto`` resolves to: BOM, then UTF-8 or cp949, whichever explains the bytes.

    A file is checked as UTF-8 whole up to 14 MB; a larger one in its first 8 MB and 24
    windows of 256 KB spread over the rest, which cost a fraction of decoding a corpus of
    gigabytes before any worker starts (a ``.gz`` or URL: its first 8 MB). A line beyond the windows that is not
    UTF-8 is then rejected as ``undecodable`` with its line number, never guessed. When a
    window is not UTF-8, the file is weighed both ways, counting undecodable bytes and Hangul. UTF-8
    wins when it decodes everything, and whenever cp949 is not clearly better: a UTF-8
    corpus with a few corrupt lines stays UTF-8 (those lines are rejected as
    ``undecodable``) instead of turning into cp949 mojibake, and a stray byte in an
    English file is rejected rather than silently read as a Hangul syllable. cp949 needs
    fewer undecodable bytes than UTF-8, at least a few Hangul syllables, more Hangul than
    UTF-8 finds, and Hangul accounting for most of the bytes UTF-8 could not decode.
    """
    with open_binary(path) as f:
        head = f.read(3)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if _utf8_windows(f, head, _file_size(path)):
            return "utf-8"
    return _weigh_encodings(path)


_HEAD = 8 << 20  # what encoding detection reads at the start of a file, whole,
_WINDOWS = 24  # then this many windows spread over the rest of a large file,
_WINDOW = 256 << 10  # of this size


def _file_size(path: Path | URL) -> int | None:
    """The size of a plain local file (None for a URL or a .gz, which cannot be sampled by seeking)."""
    if isinstance(path, URL) or path.suffix == ".gz":
        return None
    return path.stat().st_size


def _utf8_windows(f: IO[bytes], head: bytes, size: int | None) -> bool:
    """Whether what :func:`detect_encoding` checks of ``f`` is valid UTF-8."""
    strict = codecs.getincrementaldecoder("utf-8")()
    try:
        strict.decode(head)
        if size is None:  # a .gz or URL: its first 8 MB decide
            strict.decode(f.read(_HEAD - len(head)))
            return True
        if size <= _HEAD + _WINDOWS * _WINDOW:  # small enough to check whole
            strict.decode(f.read(), final=True)
            return True
        strict.decode(f.read(_HEAD - len(head)))
        for k in range(1, _WINDOWS + 1):
            start = _HEAD + k * (size - _HEAD - _WINDOW) // _WINDOWS
            f.seek(start)
            chunk = f.read(_WINDOW)
            skip = 0  # a window may start inside a character: past its continuation bytes
            while skip < 3 and skip < len(chunk) and 0x80 <= chunk[skip] <= 0xBF:
                skip += 1
            codecs.getincrementaldecoder("utf-8")().decode(chunk[skip:], final=start + len(chunk) >= size)
        return True
    except UnicodeDecodeError:
        return False


def _weigh_encodings(path: Path) -> str:
    """For a file that is not clean UTF-8: count what each encoding fails to decode in its
    first few megabytes (plenty of evidence, and a bounded cost on a huge file)."""
    as_utf8 = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    as_cp949 = codecs.getincrementaldecoder("cp949")(errors="surrogateescape")
    u_bad = u_hangul = c_bad = c_hangul = 0
    with open_binary(path) as f:
        for index in range(_SAMPLE_CHUNKS + 1):
            chunk = f.read(READ_BLOCK)
            final = not chunk or index == _SAMPLE_CHUNKS
            text = as_utf8.decode(chunk, final=final)
            if not text.isascii():
                u_bad += len(ESCAPED.findall(text))
                u_hangul += len(_HANGUL.findall(text))
            text = as_cp949.decode(chunk, final=final)
            if not text.isascii():
                c_bad += len(ESCAPED.findall(text))
                c_hangul += len(_HANGUL.findall(text))
            if final:
                break
    cp949_explains = c_bad < u_bad and c_hangul >= 3 and c_hangul > u_hangul and 4 * c_hangul >= u_bad
    return "cp949" if cp949_explains else "utf-8"


def has_undecodable(text: str) -> bool:
    """Whether ``text`` (read through :func:`open_text`) holds bytes its encoding could not decode."""
    return not text.isascii() and ESCAPED.search(text) is not None


def show_undecodable(text: str) -> str:
    """``text`` with each undecodable byte written as ``\\xNN``, safe to store as JSON."""
    return ESCAPED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def bounded_lines(f: IO[AnyStr], max_length: int) -> Iterator[tuple[AnyStr | None, int]]:
    """The lines of ``f`` as ``(line, length)``, never holding more than ``max_length`` of one.

    A line longer than ``max_length`` (not counting its line ending) comes out as
    ``(None, length)`` after the rest of it has been read past in chunks, so a
    multi-gigabyte line (a file with no newline at all) costs no memory.
    """
    readline = f.readline
    while True:
        line = readline(max_length + 1)
        if not line:
            return
        if len(line) <= max_length or line[-1:] in ("\n", b"\n"):
            yield line, len(line)
            continue
        length = len(line)
        while True:
            rest = readline(READ_BLOCK)
            length += len(rest)
            if not rest or rest[-1:] in ("\n", b"\n"):
                break
        yield None, length


def binary_line_blocks(f: IO[bytes], max_length: int) -> Iterator[list[bytes | int]]:
    """The lines of a binary file, a list of them at a time: what :func:`bounded_lines`
    reads, faster.

    The file is read in 1 MB blocks split at ``\n`` in C, instead of one ``readline`` call
    per line, and handed out as lists (one generator step per block, not per line). A line comes
    without its ``\n``. A line longer than ``max_length`` comes as an ``int``, its length
    (counting its ``\n`` if it has one), read past without being kept whole.
    """
    read = f.read
    tail = b""
    skipped = -1  # bytes of an over-long line read past so far (-1: not in one)
    while True:
        block = read(READ_BLOCK)
        if not block:
            break
        if skipped >= 0:  # inside an over-long line: look for its end only
            end = block.find(b"\n")
            if end < 0:
                skipped += len(block)
                continue
            yield [skipped + end + 1]
            skipped = -1
            block = block[end + 1:]
        lines = (tail + block).split(b"\n") if tail else block.split(b"\n")
        tail = lines.pop()
        if lines and max(map(len, lines)) > max_length:  # rare: only then a loop in Python
            lines = [line if len(line) <= max_length else len(line) + 1 for line in lines]
        if lines:
            yield lines
        if len(tail) > max_length:
            skipped, tail = len(tail), b""
    if skipped >= 0:
        yield [skipped]
    elif tail:
        yield [tail if len(tail) <= max_length else len(tail)]


def open_text(path: Path, encoding: str, newline: str = "") -> IO[str]:
    """Open a text file in ``encoding`` (already resolved from ``auto``), newline-preserving.

    ``newline`` is what ends a line: ``""`` any of ``\n``, ``\r\n`` and a lone ``\r``; ``"\n"``
    only ``\n`` (and so ``\r\n``), for formats where a lone ``\r`` is data (TSV, JSON Lines).

    Undecodable bytes become lone surrogates (``surrogateescape``) so that readers reject
    just the rows holding them, as ``undecodable`` with their line (see :func:`has_undecodable`);
    they are never silently replaced. A UTF-8 BOM is always dropped, so it can never reach
    a column name.
    """
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="surrogateescape", newline=newline)


def line_too_long(length: int, max_length: int, unit: str = "bytes") -> BadRow:
    """The rejection of a line over the size limit (its text is not kept: it may be huge).

    ``unit`` is ``characters`` for lines measured after decoding (non-UTF-8 text files).
    """
    return BadRow("line_too_long", f"line of {length:,} {unit} is over the limit of {max_length:,} "
                  "(raise it with --max-line-bytes)", None)


def document_too_large(path: Path | URL, size: int | None, max_bytes: int, what: str = "file") -> DataError:
    """The refusal of an input read whole that is over ``--max-document-bytes`` (``size``:
    None when it is only known to be over, as a ``.gz`` read up to the limit)."""
    found = (f"is {size:,} bytes, over the limit of {max_bytes:,} bytes" if size is not None
             else f"decompresses to more than {max_bytes:,} bytes, the limit")
    return DataError(f"the {what} {found} for an input read whole (raise it with --max-document-bytes)",
                     file=str(path))


class _Range(io.RawIOBase):
    """The bytes ``[start, end)`` of a file, as a raw stream (a chunk of a large file)."""

    def __init__(self, path: Path, start: int, end: int):
        self._file = open(path, "rb", buffering=0)
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        n = self._file.readinto(view) or 0
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_binary_span(path: Path, span: tuple[int, int] | None) -> IO[bytes]:
    """Like :func:`open_binary`, limited to the byte range ``span`` when one is given."""
    if span is None:
        return open_binary(path)
    return io.BufferedReader(_Range(path, *span), buffer_size=READ_BLOCK)


def open_text_span(path: Path, encoding: str, span: tuple[int, int] | None, newline: str = "") -> IO[str]:
    """Like :func:`open_text`, limited to the byte range ``span`` (starting at a line) when given."""
    if span is None:
        return open_text(path, encoding, newline)
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    return io.TextIOWrapper(open_binary_span(path, span), encoding=encoding, errors="surrogateescape",
                            newline=newline)
