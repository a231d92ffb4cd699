"""A per-article array that a worker need not hold: the MinHash sketches (512 bytes an article).

Sketches serve only updates (finding the copies of new articles among all); a worker that only
answers never reads them. So a snapshot keeps them as blocks: each saved folder's `sketches.npy`
memory-mapped (pages read only when touched) with the rows of it still held, and the rows an update
added; an array is made of them only when an update asks (`np.asarray`)."""

from __future__ import annotations

import numpy as np


class RowBlocks:
    def __init__(self, blocks: list[tuple[np.ndarray, np.ndarray | None]]):
        # (array, rows of it held, in order; None: all of them)
        self.blocks = blocks

    @classmethod
    def of(cls, array) -> RowBlocks:
        return array if isinstance(array, RowBlocks) else cls([(array, None)])

    @staticmethod
    def _count(block) -> int:
        array, rows = block
        return len(array) if rows is None else len(rows)

    def __len__(self) -> int:
        return sum(self._count(b) for b in self.blocks)

    @property
    def shape(self) -> tuple[int, ...]:
        width = self.blocks[0][0].shape[1:] if self.blocks else (0,)
        return (len(self), *width)

    def take(self, rows: np.ndarray) -> RowBlocks:
        """The rows `rows` (ascending) of these: each block keeps those of its own."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size > 1 and (np.diff(rows) <= 0).any():
            raise ValueError("RowBlocks.take needs ascending rows")
        out, start = [], 0
        for block in self.blocks:
            count = self._count(block)
            mine = rows[(rows >= start) & (rows < start + count)] - start
            array, held = block
            if mine.size or not out:  # one block stays, empty or not: it keeps the dtype and width
                out.append((array, mine if held is None else held[mine]))
            start += count
        return RowBlocks([b for b in out if self._count(b)] or out[:1])

    @staticmethod
    def join(parts: list) -> RowBlocks:
        return RowBlocks([b for part in parts for b in RowBlocks.of(part).blocks])

    def __array__(self, dtype=None, copy=None):
        arrays = [np.asarray(a) if rows is None else np.asarray(a[rows]) for a, rows in self.blocks]
        out = np.concatenate(arrays) if arrays else np.zeros((0, 0), dtype=np.uint32)
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, item):
        return np.asarray(self)[item]


__all__ = ["RowBlocks"]
