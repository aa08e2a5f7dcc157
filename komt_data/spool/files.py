"""Reading records back from stage-1 spool files by offset, without mapping them.

Stage 3 reads the chosen records in shuffled order. Memory-mapping the spools would
count every touched page of them in the process's resident set (hundreds of megabytes
for a large build); positioned reads go through the page cache and keep RSS flat.
"""

from __future__ import annotations

import os
from pathlib import Path


class SpoolFile:
    """One spool file open for positioned reads (:meth:`read_at`)."""

    def __init__(self, path: Path):
        self._file = open(path, "rb", buffering=0)
        self._fd = self._file.fileno()

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only at the end of the file)."""
        return pread(self._fd, length, offset)

    def close(self) -> None:
        """Close the file."""
        self._file.close()


_HAS_PREAD = hasattr(os, "pread")  # not on Windows


def _seek_and_read(fd: int, length: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, length)


#: ``pread(fd, length, offset)``: os.pread, or a seek and a read where there is none.
pread = os.pread if _HAS_PREAD else _seek_and_read
