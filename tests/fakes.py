"""In-process stand-ins for the service's heavy parts, for the fast test tier: no model, no
Chroma, no network. Each mirrors only what the product calls on the real part.

- FakeEmbedder: a hashed bag of stemmed words (deterministic, L2-normalised).
- FakeStore: rag.index.store.Store's methods over in-memory collections that implement the
  store's Collection protocol (rows chosen by RowFilter, nearest by cosine).
- FakeLlm: rag.answer.llm.LlmClient's `stream`/`complete`, scripted, recording what it was sent.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Iterator

import numpy as np

from rag.index.lexical import tokenize
from rag.index.rows_filter import RowFilter
from rag.index.store import Pointer, Rows, is_snapshot_name


class FakeEmbedder:
    """Each stemmed, non-stop word adds 1 to a hashed bucket; the vector is L2-normalised. Texts
    that share words are close, texts that share none are orthogonal (up to hash collisions)."""

    name = "fake-hash"

    def __init__(self, width: int = 384):
        self.width = width
        self.calls: list[list[str]] = []  # every embed() batch, for counting re-embedding

    @property
    def dimension(self) -> int:
        return self.width

    def _bucket(self, word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % self.width

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, self._bucket(word)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def quick(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)

    @property
    def embedded_texts(self) -> list[str]:
        return [t for batch in self.calls for t in batch]


# --- store -----------------------------------------------------------------------------------

class FakeCollection:
    """rag.index.store.Collection in memory: rows filtered by RowFilter.holds (the meaning every
    store must give a filter; tests/fast/test_collection.py runs the same cases on Chroma)."""

    def __init__(self, name: str):
        self.name = name
        self._rows: dict[str, tuple[np.ndarray, str, dict]] = {}  # id -> (vector, document, metadata)

    def count(self) -> int:
        return len(self._rows)

    def add(self, ids, vectors, texts, metadatas) -> None:
        if len(set(ids)) != len(ids) or any(i in self._rows for i in ids):
            raise ValueError("duplicate ids")  # Chroma ignores or errors; the product never does it
        for cid, vector, doc, meta in zip(ids, vectors, texts, metadatas, strict=True):
            if any(v is None for v in meta.values()):
                raise ValueError(f"metadata of {cid} holds None, which Chroma rejects")
            self._rows[cid] = (np.asarray(vector, dtype=np.float32), doc, dict(meta))

    def _select(self, where: RowFilter | None) -> list[str]:
        return [i for i in self._rows if where is None or where.holds(self._rows[i][2])]

    def ids(self, where: RowFilter) -> list[str]:
        return self._select(where)

    def rows(self, where=None, limit=None, offset=0, vectors=False) -> Rows:
        selected = self._select(where)[offset:offset + limit if limit is not None else None]
        return Rows(selected, [dict(self._rows[i][2]) for i in selected],
                    [self._rows[i][1] for i in selected],
                    np.array([self._rows[i][0] for i in selected]) if vectors else None)

    def update_metadata(self, ids, metadatas) -> None:
        for cid, meta in zip(ids, metadatas, strict=True):
            if cid in self._rows:
                vector, doc, _ = self._rows[cid]
                self._rows[cid] = (vector, doc, dict(meta))

    def delete(self, ids) -> None:
        for cid in ids:
            self._rows.pop(cid, None)

    def nearest(self, vector, n, where=None) -> list[str]:
        """Brute-force cosine distance, nearest first (ties in insertion order)."""
        selected = self._select(where)
        if not selected:
            return []
        matrix = np.array([self._rows[i][0] for i in selected], dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        distances = 1.0 - (matrix @ query) / np.maximum(norms, 1e-12)
        return [selected[i] for i in np.argsort(distances, kind="stable")[:n]]


class FakeStore:
    """rag.index.store.Store in memory. The pointer goes through the same metadata round trip as
    in Chroma, so a summary that Chroma could not hold fails here too."""

    def __init__(self, prefix: str = "news"):
        self.prefix = prefix
        self.location = "memory"
        self._collections: dict[str, FakeCollection] = {}
        self._pointer_meta: dict | None = None
        self._serial = itertools.count(1)

    def current(self) -> Pointer | None:
        return Pointer.from_metadata(self._pointer_meta)

    def set_current(self, pointer: Pointer) -> None:
        self._pointer_meta = pointer.as_metadata()

    def new_snapshot_name(self) -> str:
        # The real names' shape (a 14-digit stamp, 6 hex digits), ordered by a counter instead.
        return f"{self.prefix}-s{next(self._serial):014d}-000000"

    def create_collection(self, snapshot: str) -> FakeCollection:
        if snapshot in self._collections:
            raise ValueError(f"collection {snapshot} already exists")
        self._collections[snapshot] = FakeCollection(snapshot)
        return self._collections[snapshot]

    def collection(self, snapshot: str) -> FakeCollection:
        if snapshot not in self._collections:
            raise ValueError(f"collection {snapshot} does not exist")
        return self._collections[snapshot]

    def collections(self) -> list[str]:
        return sorted(n for n in self._collections if is_snapshot_name(self.prefix, n))

    def drop(self, snapshot: str) -> None:
        self._collections.pop(snapshot, None)


# --- LLM -------------------------------------------------------------------------------------

class FakeLlm:
    """Plays an LLM: `reply` is the answer text (streamed in 7-character pieces), a list of
    pieces to stream as given, an exception to raise, or a callable from messages to any of
    those. `raise_after` streams that many pieces before raising (a failure mid-answer).
    Every call's messages are kept in `requests`."""

    def __init__(self, reply: object = "Nothing to say [1].", raise_after: int = 0):
        self.reply = reply
        self.raise_after = raise_after
        self.requests: list[list[dict]] = []

    def _pieces(self, reply: object) -> list[str]:
        if isinstance(reply, str):
            return [reply[i:i + 7] for i in range(0, len(reply), 7)]
        return list(reply)

    def stream(self, messages: list[dict], timeout_s: float | None = None) -> Iterator[str]:
        self.requests.append([dict(m) for m in messages])
        reply = self.reply(messages) if callable(self.reply) else self.reply
        if isinstance(reply, BaseException):
            yield from self._pieces("Partial answer [1] ")[:self.raise_after]
            raise reply
        yield from self._pieces(reply)

    def complete(self, messages: list[dict], timeout_s: float | None = None) -> str:
        return "".join(self.stream(messages, timeout_s))

    @property
    def prompts(self) -> list[str]:
        """The user message of each request (where the passages are)."""
        return [m[-1]["content"] for m in self.requests]


__all__ = ["FakeCollection", "FakeEmbedder", "FakeLlm", "FakeStore"]
