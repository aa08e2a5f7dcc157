"""Chunk planning: every chunk starts a line, and knows that line's number as the readers count it."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.sources.chunks import iter_line_spans


def _line_starts(data: bytes, universal: bool) -> dict[int, int]:
    """Byte offset of each line start -> its line number, by the reader's own splitting."""
    if universal:
        lines = [line.encode("latin-1") for line in io.TextIOWrapper(io.BytesIO(data), "latin-1", newline="")]
    else:
        lines = list(io.BytesIO(data))
    starts, offset = {}, 0
    for number, line in enumerate(lines, 1):
        starts[offset] = number
        offset += len(line)
    return starts


pieces = st.lists(st.sampled_from([b"a", "가".encode(), b"\t", b" ", b"\n", b"\r\n", b"\r"]), max_size=300)


@settings(max_examples=200, deadline=None)
@given(parts=pieces, chunk=st.integers(1, 40), universal=st.booleans())
def test_spans_start_lines_and_carry_their_numbers(tmp_path_factory, parts, chunk, universal) -> None:
    data = b"".join(parts)
    path = Path(tmp_path_factory.mktemp("chunks")) / "f.txt"
    path.write_bytes(data)
    spans = list(iter_line_spans(path, chunk, universal))
    assert spans[0][0] == 0 and spans[0][2] == 1
    assert spans[-1][1] == len(data)
    starts = _line_starts(data, universal)
    for (start, end, first), following in zip(spans, spans[1:] + [None], strict=True):
        assert start < end or len(data) == 0
        if following is not None:
            assert end == following[0]
        if start > 0:
            assert data[start - 1:start] == b"\n"   # cut just after a newline
            assert starts[start] == first


def test_large_blocks_cut_near_the_requested_size(tmp_path: Path) -> None:
    line = ('{"text": "' + "가나다라" * 20 + '"}\n').encode()
    path = tmp_path / "big.jsonl"
    path.write_bytes(line * 30000)  # a few MB: cuts fall inside and across read blocks
    spans = list(iter_line_spans(path, 1 << 20, universal=False))
    assert len(spans) > 3
    for start, end, first in spans:
        assert start % len(line) == 0 and first == start // len(line) + 1
        if end < path.stat().st_size:
            assert (1 << 20) <= end - start < (1 << 20) + len(line)
