"""Article files read as bounded streams: nothing is held whole before its size is known, and a
.gz is measured by what it expands to, so a small decompression bomb cannot fill the memory."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Iterator

from rag.config import (COMPRESSION_RATIO_FLOOR_BYTES, JSON_SUFFIXES, MAX_ARTICLE_FILE_BYTES,
                        MAX_COMPRESSION_RATIO, MAX_CORPUS_FILE_BYTES, MAX_RECORD_BYTES)

# What a broken or truncated file raises while read (gzip.BadGzipFile is an OSError).
READ_ERRORS = (OSError, EOFError, zlib.error)
CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 8192  # a NUL byte this early means a binary file


class Rejected(Exception):
    """The whole file cannot be used; the message is the reason a user sees."""


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def file_limit(suffix: str) -> int:
    """The most a file may hold, decompressed: a collection may be big, one article may not."""
    return MAX_CORPUS_FILE_BYTES if suffix in JSON_SUFFIXES else MAX_ARTICLE_FILE_BYTES


class BoundedReader:
    """A file's bytes (decompressed for .gz) that raise Rejected once more than `limit` bytes
    have come out, or once a .gz has expanded past MAX_COMPRESSION_RATIO."""

    def __init__(self, path: Path, limit: int):
        self.limit, self.total = limit, 0
        self.compressed = path.suffix.lower() == ".gz"
        size = self.size = path.stat().st_size
        if not self.compressed and size > limit:
            raise Rejected(f"file too large ({size / 1e6:.1f} MB, limit {limit / 1e6:.0f} MB)")
        self.raw = open(path, "rb")
        self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb") if self.compressed else self.raw

    def __enter__(self) -> "BoundedReader":
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()
        self.raw.close()

    def read(self, size: int = CHUNK_BYTES) -> bytes:
        if not self.compressed and self.total <= self.size:
            # A plain read allocates all it asks for: a 2 KB article need not cost 1 MB. One
            # byte past the listed size shows a file that grew; then reads go by whole chunks.
            size = min(size, self.size - self.total + 1)
        return self._count(self.stream.read(size))

    def readline(self, size: int) -> bytes:
        return self._count(self.stream.readline(size))

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            where = " when decompressed" if self.compressed else ""
            raise Rejected(f"larger than {megabytes(self.limit)}{where}")
        # raw.tell() is how much of the compressed file the decompressor has taken so far.
        if (self.compressed and self.total > COMPRESSION_RATIO_FLOOR_BYTES
                and self.total > MAX_COMPRESSION_RATIO * max(self.raw.tell(), 1)):
            raise Rejected(f"compressed over {MAX_COMPRESSION_RATIO}:1 (a decompression bomb?)")
        return data


def decode(data: bytes, offset: int = 0) -> str:
    """UTF-8 text of bytes found at `offset` in a file; Rejected for binary or other encodings."""
    if offset < SNIFF_BYTES and b"\x00" in data[:SNIFF_BYTES - offset]:
        raise Rejected("binary file, not text")
    try:
        return data.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not valid UTF-8 text (byte {offset + exc.start})") from None


def read_text(path: Path, limit: int) -> str:
    """A whole file's text, at most `limit` bytes of it (decompressed)."""
    parts = []
    with BoundedReader(path, limit) as reader:
        while part := reader.read():
            parts.append(part)
    data = b"".join(parts)
    if not data.strip():
        raise Rejected("empty file")
    return decode(data)


def iter_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number, text) for each non-blank line of a JSONL file; text is None for a line over
    MAX_RECORD_BYTES, of which only the first MAX_RECORD_BYTES + 1 bytes were ever held.
    Raises Rejected part way through when the file as a whole cannot be used."""
    blank = True
    with BoundedReader(path, MAX_CORPUS_FILE_BYTES) as reader:
        number = 0
        while line := reader.readline(MAX_RECORD_BYTES + 1):
            number += 1
            blank = False if line.strip() else blank
            if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                while (rest := reader.readline(CHUNK_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            text = decode(line, reader.total - len(line))
            if text.strip():
                yield number, text
    if blank:
        raise Rejected("empty file")


def decompressed_size(path: Path, limit: int) -> int:
    """How big a file is once decompressed, read through without keeping it; Rejected past
    `limit` or past MAX_COMPRESSION_RATIO."""
    with BoundedReader(path, limit) as reader:
        while reader.read():
            pass
        return reader.total
