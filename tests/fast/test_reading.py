"""Bounded reads of article files (rag/ingest/reading.py): a read asks for no more than the file
was listed with, and a file that grew after it was listed is still read whole, in chunks."""

from __future__ import annotations

import pytest

from rag.ingest.reading import CHUNK_BYTES, BoundedReader, Rejected


def reads(reader: BoundedReader) -> list[int]:
    sizes = []
    while part := reader.read():
        sizes.append(len(part))
    return sizes


def test_a_small_file_is_read_in_one_read(tmp_path):
    path = tmp_path / "article.txt"
    path.write_bytes(b"x" * 2000)
    with BoundedReader(path, 10**6) as reader:
        assert reads(reader) == [2000]


def test_a_file_that_grew_after_listing_is_read_whole_in_chunks(tmp_path):
    path = tmp_path / "article.txt"
    path.write_bytes(b"x" * 2000)
    with BoundedReader(path, 10**7) as reader:
        with open(path, "ab") as grow:
            grow.write(b"y" * (3 * CHUNK_BYTES))
        sizes = reads(reader)
    assert sum(sizes) == 2000 + 3 * CHUNK_BYTES
    assert len(sizes) <= 5  # not a byte at a time past the listed size


def test_growing_past_the_limit_is_still_refused(tmp_path):
    path = tmp_path / "article.txt"
    path.write_bytes(b"x" * 2000)
    with BoundedReader(path, 10_000) as reader:
        with open(path, "ab") as grow:
            grow.write(b"y" * 20_000)
        with pytest.raises(Rejected):
            reads(reader)
