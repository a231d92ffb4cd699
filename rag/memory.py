"""Giving freed memory back to the system: a worker should hold what it uses, not its peaks.

Reading a snapshot parses every saved record once (to index it) and frees it again; glibc keeps
the freed pages in its heap, so a worker would hold the peak of its load for good (about 40% of
the snapshot's memory, measured at 20,000 chunks): `malloc_trim` returns them. And glibc raises
its threshold for serving a large block by its own mapping each time one is freed, so the
per-question arrays of an archive (a score per chunk) end up in the heap and leave it fragmented
(+45 MB after one as-of answer at 20,000 chunks, +11 MB with the threshold fixed at 4 MB).
Elsewhere than glibc neither call exists, and nothing is done."""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


LARGE_BLOCK = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3


def map_large_blocks() -> bool:
    """Serve blocks of LARGE_BLOCK and more by their own mappings, given back when freed."""
    libc = _libc()
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK)) if libc is not None else False


def release_freed_memory() -> bool:
    """True when the C library gave its free heap pages back."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


__all__ = ["map_large_blocks", "release_freed_memory"]
