"""Per-row arrays a worker need not hold in its own memory: the float16 vectors (768 bytes a
chunk) and the MinHash sketches (512 bytes an article, read by updates only).

A snapshot keeps them as blocks: each saved folder's `.npy` (vectors read by row with pread,
`NpyRows`; sketches memory-mapped, never touched by a worker) with the rows of it still held,
and the rows an update added since, in memory until they are saved. Rows are gathered from the
blocks when a question asks for them; a whole array is made only where one is asked for
(`np.asarray`: an update grouping copies, a save, the int8 copy for as-of searches)."""

from __future__ import annotations

import os

import numpy as np


class RowBlocks:
    def __init__(self, blocks: list[tuple[np.ndarray, np.ndarray | None]], like: np.ndarray | None = None):
        # (array, rows of it held, in order; None: all of them). Blocks without a row held are
        # dropped (they would keep a whole array alive for nothing); `like`, an empty array of
        # the rows' dtype and width, says those when no block is left.
        if like is None and blocks:
            like = np.empty((0, *blocks[0][0].shape[1:]), dtype=blocks[0][0].dtype)
        self.like = like if like is not None else np.empty((0, 0), dtype=np.uint32)
        self.blocks = [b for b in blocks if self._count(b)]
        self.starts = np.cumsum([0] + [self._count(b) for b in self.blocks])

    @classmethod
    def of(cls, array) -> RowBlocks:
        return array if isinstance(array, RowBlocks) else cls([(array, None)])

    @staticmethod
    def _count(block) -> int:
        array, rows = block
        return len(array) if rows is None else len(rows)

    def __len__(self) -> int:
        return int(self.starts[-1])

    @property
    def dtype(self):
        return self.like.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.like.shape[1:])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def take(self, rows: np.ndarray) -> RowBlocks:
        """The rows `rows` (ascending) of these, as blocks: nothing is copied but row numbers."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size > 1 and (np.diff(rows) <= 0).any():
            raise ValueError("RowBlocks.take needs ascending rows")
        out = []
        for number, block in enumerate(self.blocks):
            start, end = self.starts[number], self.starts[number + 1]
            mine = rows[np.searchsorted(rows, start):np.searchsorted(rows, end)] - start
            array, held = block
            if mine.size:
                out.append((array, mine if held is None else held[mine]))
        return RowBlocks(out, like=self.like)

    @staticmethod
    def join(parts: list) -> RowBlocks:
        parts = [RowBlocks.of(part) for part in parts]
        like = next((p.like for p in parts if p.like.ndim == 2 and p.like.shape[1]), None)
        return RowBlocks([b for part in parts for b in part.blocks],
                         like=like if like is not None else (parts[0].like if parts else None))

    def gather(self, rows) -> np.ndarray:
        """The rows `rows` (any order), copied out of their blocks."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for number in np.unique(which):
            picked = which == number
            array, held = self.blocks[number]
            local = rows[picked] - self.starts[number]
            out[picked] = array[local if held is None else held[local]]
        return out

    def parts(self, most: int | None = None):
        """The rows held, in order, as one array per block, or per `most` rows of a block: all
        of them read without one array of them all."""
        for array, held in self.blocks:
            if most is None:
                yield np.asarray(array if held is None else array[held])
                continue
            wanted = np.arange(len(array)) if held is None else held
            for start in range(0, len(wanted), most):
                yield np.asarray(array[wanted[start:start + most]])

    def __array__(self, dtype=None, copy=None):
        arrays = list(self.parts())
        out = np.concatenate(arrays) if arrays else self.like.copy()
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            return self.gather([item])[0]
        if isinstance(item, slice):
            return np.asarray(self.take(np.arange(len(self))[item]))
        return self.gather(item)




class NpyRows:
    """The rows of a saved 2-D `.npy`, read with pread when asked for: unlike a memory mapping,
    rows read this way leave nothing in the worker's memory (the kernel maps a mapped file in
    large runs around each row read: 150 rows of a question mapped the whole 38 MB vectors file
    of 50,000 chunks). The file stays open, so it outlives a removal of its folder."""

    def __init__(self, path):
        with open(path, "rb") as fh:
            fmt = np.lib.format
            major, _ = fmt.read_magic(fh)
            read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            self.offset = fh.tell()
        if fortran or len(shape) != 2:
            raise ValueError(f"{path}: not a C-ordered 2-D array")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.row_bytes = self.dtype.itemsize * self.shape[1]
        self.fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, start: int, count: int) -> np.ndarray:
        data = os.pread(self.fd, count * self.row_bytes, self.offset + start * self.row_bytes)
        if len(data) != count * self.row_bytes:
            raise OSError("vectors file shorter than its header says")
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])

    def __getitem__(self, rows) -> np.ndarray:
        """The rows numbered `rows`, in that order."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        # One read per run of consecutive rows (a whole block is one run).
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for start, end in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
            if end > start:
                out[start:end] = self._read(int(rows[start]), int(end - start))
        return out

    def __array__(self, dtype=None, copy=None):
        out = self._read(0, len(self))
        return out if dtype is None else out.astype(dtype)

    def __del__(self):
        try:
            os.close(self.fd)
        except (OSError, AttributeError):
            pass


SAVE_ROWS = 65536  # rows written at a time by save_npy


def save_npy(path, rows) -> None:
    """`rows` (an array or RowBlocks) as a 2-D `.npy`, written a block at a time: saving the
    vectors of a build of millions makes no array of them all (it used to make two)."""
    blocks = RowBlocks.of(rows)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(blocks.dtype)),
              "fortran_order": False, "shape": tuple(int(n) for n in blocks.shape)}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        for part in blocks.parts(SAVE_ROWS):
            fh.write(np.ascontiguousarray(part, dtype=blocks.dtype).tobytes())


class NpyWriter:
    """Rows appended to a 2-D `.npy` as they come, its header written once their count is known:
    a build's vectors and sketches wait on disk, not in memory, until the snapshot is saved."""

    HEADER_BYTES = 128  # magic, version, length and the header text: room for any row count

    def __init__(self, path, dtype):
        self.path, self.dtype = path, np.dtype(dtype)
        self.rows, self.width = 0, None
        self._file = open(path, "wb")
        self._file.write(b"\0" * self.HEADER_BYTES)

    def append(self, rows) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if self.width is None:
            self.width = rows.shape[1]
        if rows.ndim != 2 or rows.shape[1] != self.width:
            raise ValueError(f"rows of width {rows.shape[1:]} after rows of width {self.width}")
        self._file.write(rows.tobytes())
        self.rows += len(rows)

    def finish(self, width: int) -> NpyRows:
        """The rows written, read back by row; `width` when none was written."""
        self._file.seek(0)
        # numpy pads the header for a first axis of up to 21 digits, so its length does not
        # depend on the row count: it fills the room left for it exactly.
        np.lib.format.write_array_header_1_0(self._file, {
            "descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
            "shape": (self.rows, self.width if self.width is not None else width)})
        if self._file.tell() != self.HEADER_BYTES:
            raise ValueError(f"{self.path}: a .npy header of {self._file.tell()} bytes, "
                             f"{self.HEADER_BYTES} were left for it")
        self.close()
        return NpyRows(self.path)

    def close(self) -> None:
        self._file.close()


__all__ = ["NpyRows", "NpyWriter", "RowBlocks", "save_npy"]
