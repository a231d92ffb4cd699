"""A snapshot's per-chunk records (text, title, date, URL, ...), held where they already are.

A worker needs the records of the few passages a question retrieves, not the archive's: records
saved in a snapshot folder's `chunks.jsonl` stay on disk and are read by offset when asked for
(14 bytes of memory a row instead of the record), while the rows a build has just made stay in
memory until they are saved. Files are kept open, so a folder removed while a worker still serves
the snapshot it holds stays readable (POSIX keeps an unlinked file while it is open)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

IN_MEMORY = -1


class RecordFile:
    """One open `chunks.jsonl`, read with pread (no shared file position: threads are safe)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, offset: int, length: int) -> dict:
        row = json.loads(os.pread(self.fd, length, offset))
        row.pop("id", None)
        return row

    def __del__(self):
        try:
            os.close(self.fd)
        except (OSError, AttributeError):
            pass


class Records(Sequence):
    """Rows that are either (file, offset, length) in one of `files` or an index into `memory`."""

    def __init__(self, files: list[RecordFile], where: np.ndarray, offset: np.ndarray,
                 length: np.ndarray, memory: list[dict]):
        self.files, self.where, self.offset, self.length, self.memory = (
            files, where, offset, length, memory)

    @classmethod
    def of(cls, items) -> Records:
        if isinstance(items, Records):
            return items
        items = list(items)
        return cls([], np.full(len(items), IN_MEMORY, dtype=np.int16),
                   np.arange(len(items), dtype=np.int64), np.zeros(len(items), dtype=np.int32), items)

    @classmethod
    def in_file(cls, path: Path, offsets: np.ndarray, lengths: np.ndarray) -> Records:
        return cls([RecordFile(path)], np.zeros(len(offsets), dtype=np.int16),
                   np.asarray(offsets, dtype=np.int64), np.asarray(lengths, dtype=np.int32), [])

    def __len__(self) -> int:
        return len(self.where)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return self.take(np.arange(len(self))[row])
        source = int(self.where[row])
        if source == IN_MEMORY:
            return self.memory[int(self.offset[row])]
        return self.files[source].read(int(self.offset[row]), int(self.length[row]))

    def __iter__(self) -> Iterator[dict]:
        for row in range(len(self)):
            yield self[row]

    def __eq__(self, other) -> bool:
        if not isinstance(other, (Records, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def take(self, rows: np.ndarray) -> Records:
        rows = np.asarray(rows, dtype=np.int64)
        return Records.join([Records(self.files, self.where[rows], self.offset[rows],
                                     self.length[rows], self.memory)])

    def on_disk(self) -> int:
        return int((self.where != IN_MEMORY).sum())

    @staticmethod
    def join(parts: list[Records]) -> Records:
        """One table of `parts` in order; shared files and memory lists are not copied."""
        files: list[RecordFile] = []
        memory: list[dict] = []
        where, offset = [], []
        for part in parts:
            # Only the files a row still reads stay open: a removed folder's goes with its rows.
            used = set(np.unique(part.where[part.where != IN_MEMORY]).tolist())
            file_at = []
            for number, record_file in enumerate(part.files):
                if number in used and record_file not in files:
                    files.append(record_file)
                file_at.append(files.index(record_file) if number in used else IN_MEMORY)
            mapped = np.asarray(file_at + [IN_MEMORY], dtype=np.int16)[part.where]  # -1 -> last
            where.append(mapped)
            # Memory rows move by the rows of the memory lists before this part's.
            shift = np.where(part.where == IN_MEMORY, len(memory), 0)
            offset.append(part.offset + shift)
            if len(part.memory) and (part.where == IN_MEMORY).any():
                memory.extend(part.memory)
        if len(files) >= np.iinfo(np.int16).max:
            raise ValueError("too many record files in one snapshot")
        return Records(files, np.concatenate(where) if where else np.zeros(0, dtype=np.int16),
                       np.concatenate(offset) if offset else np.zeros(0, dtype=np.int64),
                       np.concatenate([p.length for p in parts]) if parts else np.zeros(0, dtype=np.int32),
                       memory)


def encode_row(row_id: str, record: dict) -> bytes:
    """One line of a `chunks.jsonl`."""
    return (json.dumps({"id": row_id, **record}, ensure_ascii=False) + "\n").encode("utf-8")


def write_jsonl(path: Path, ids: Sequence[str], records: Sequence[dict],
                fields: tuple[str, ...] = ()) -> Records:
    """Write rows as `chunks.jsonl` and return them as read from that file. With `fields`, also
    their line lengths and those fields of every row beside it (`read_columns`), so that reading
    the file back needs no parsing of the records themselves."""
    offsets = np.zeros(len(ids), dtype=np.int64)
    lengths = np.zeros(len(ids), dtype=np.int32)
    columns: dict[str, list] = {name: [] for name in fields}
    at = 0
    with open(path, "wb") as fh:
        for n, (cid, record) in enumerate(zip(ids, records)):
            line = encode_row(cid, record)
            fh.write(line)
            offsets[n], lengths[n] = at, len(line)
            at += len(line)
            for name in fields:
                columns[name].append(record.get(name))
    if fields:
        np.save(path.parent / "line_lengths.npy", lengths)
        (path.parent / "columns.json").write_text(
            json.dumps({"id": list(ids), **columns}, ensure_ascii=False))
    return Records.in_file(path, offsets, lengths)


def read_columns(folder: Path, fields: tuple[str, ...]):
    """What `write_jsonl` wrote beside the file, as `scan_jsonl` gives it; None when it is missing or does not
    match the file (a folder saved before it was written, or damaged)."""
    try:
        lengths = np.load(folder / "line_lengths.npy")
        columns = json.loads((folder / "columns.json").read_text())
        size = (folder / "chunks.jsonl").stat().st_size
    except (OSError, ValueError):
        return None
    ids = columns.pop("id", None)
    if (ids is None or len(ids) != len(lengths) or int(lengths.sum()) != size
            or any(len(columns.get(name, ())) != len(ids) for name in fields)):
        return None
    offsets = np.concatenate([[0], np.cumsum(lengths[:-1], dtype=np.int64)]) if len(lengths) else lengths
    return ids, Records.in_file(folder / "chunks.jsonl", offsets, lengths), columns


def scan_jsonl(path: Path, fields: tuple[str, ...]) -> tuple[list[str], Records, dict[str, list]]:
    """The ids of a `chunks.jsonl`, its rows as Records, and the named fields of every row (read
    once here, so that deriving the snapshot does not read the file again)."""
    ids: list[str] = []
    offsets, lengths = [], []
    columns: dict[str, list] = {name: [] for name in fields}
    at = 0
    with open(path, "rb") as fh:
        for line in fh:
            row = json.loads(line)
            ids.append(row["id"])
            for name in fields:
                columns[name].append(row.get(name))
            offsets.append(at)
            lengths.append(len(line))
            at += len(line)
    return ids, Records.in_file(path, np.array(offsets, dtype=np.int64),
                                np.array(lengths, dtype=np.int32)), columns


__all__ = ["Records", "encode_row", "read_columns", "scan_jsonl", "write_jsonl"]
