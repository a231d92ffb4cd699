"""Chroma, embedded or client/server through the same code, holding the index's collection and a
pointer to the snapshot that serves.

An update adds its rows to the serving collection in place, each row tagged with the snapshot
that added it (`born`) and, once removed, the snapshot that dropped it (`died`); then it moves
the pointer (one metadata write, atomic in Chroma). A snapshot is the rows born at or before it
and not dead by it, so readers see the old set or the new set, never a mix, and an update killed
at any moment leaves the previous snapshot serving. A full build (a new embedder, or compaction
after many deletions) writes a new collection beside the serving one instead.

The rest of the product sees a `Collection` (the protocol below) and says which rows with a
`RowFilter`; Chroma's collections and its `where` syntax stay in this module."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from rag.config import Settings
from rag.errors import StoreUnavailable
from rag.index.rows_filter import RowFilter


@dataclass
class Rows:
    ids: list[str]
    metadatas: list[dict]
    documents: list[str]
    vectors: np.ndarray | None = None  # only when asked for


class Collection(Protocol):
    """A snapshot's rows in a store: what the index and the dense search need of one."""

    name: str

    def count(self) -> int: ...

    def add(self, ids: Sequence[str], vectors, texts: Sequence[str], metadatas: Sequence[dict]) -> None: ...

    def ids(self, where: RowFilter) -> list[str]: ...

    def rows(self, where: RowFilter | None = None, limit: int | None = None, offset: int = 0,
             vectors: bool = False) -> Rows: ...

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def nearest(self, vector: np.ndarray, n: int, where: RowFilter | None = None) -> list[str]:
        """Ids of the `n` rows nearest to `vector` (cosine), nearest first."""
        ...


_CHROMA_CONDITIONS = {
    "born_at_most": ("born", "$lte"), "born_after": ("born", "$gt"),
    "died_after": ("died", "$gt"), "died_before": ("died", "$lt"), "died_at_most": ("died", "$lte"),
    "published_from": ("published_ts", "$gte"), "published_until": ("published_ts", "$lte"),
    "sources": ("source", "$in"),
}


def chroma_where(where: RowFilter | None) -> dict | None:
    """A RowFilter in Chroma's `where` syntax (None: every row)."""
    if where is None:
        return None
    clauses = []
    for name, value in where.conditions():
        key, op = _CHROMA_CONDITIONS[name]
        clauses.append({key: {op: list(value) if op == "$in" else value}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaCollection:
    """The Collection protocol over one Chroma collection."""

    def __init__(self, raw):
        self.raw = raw
        self.name = raw.name

    def count(self) -> int:
        return self.raw.count()

    def add(self, ids, vectors, texts, metadatas) -> None:
        self.raw.add(ids=list(ids), embeddings=vectors, documents=list(texts), metadatas=list(metadatas))

    def ids(self, where: RowFilter) -> list[str]:
        return self.raw.get(where=chroma_where(where), include=[])["ids"]

    def rows(self, where=None, limit=None, offset=0, vectors=False) -> Rows:
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        got = self.raw.get(where=chroma_where(where), limit=limit, offset=offset or None,
                           include=include)
        return Rows(got["ids"], got["metadatas"], got["documents"],
                    np.asarray(got["embeddings"], dtype=np.float32) if vectors else None)

    def update_metadata(self, ids, metadatas) -> None:
        self.raw.update(ids=list(ids), metadatas=list(metadatas))

    def delete(self, ids) -> None:
        if ids:
            self.raw.delete(ids=list(ids))

    def nearest(self, vector, n, where=None) -> list[str]:
        found = self.raw.query(query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                               n_results=n, where=chroma_where(where), include=["distances"])
        return found["ids"][0]


@dataclass
class Pointer:
    snapshot: str
    built_at: float
    fingerprint: str
    articles: int
    chunks: int
    summary: dict[str, Any] = field(default_factory=dict)
    # The Chroma collection holding the snapshot's rows (None: named like the snapshot, as
    # indexes built before in-place updates are) and the snapshot's number in it.
    collection: str | None = None
    seq: int = 0
    # Rows deleted from the collection since it was created: compaction is due when they
    # outnumber a share of the live ones.
    deleted_rows: int = 0

    @property
    def collection_name(self) -> str:
        return self.collection or self.snapshot

    def as_metadata(self) -> dict[str, Any]:
        # "generation" too: a worker of the release before the rename, sharing this store during
        # an upgrade, still follows the pointer.
        meta = {
            "snapshot": self.snapshot, "generation": self.snapshot, "built_at": self.built_at,
            "fingerprint": self.fingerprint, "articles": self.articles, "chunks": self.chunks,
            "summary": json.dumps(self.summary), "seq": self.seq, "deleted_rows": self.deleted_rows,
        }
        if self.collection:  # Chroma metadata holds no None
            meta["collection"] = self.collection
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any] | None) -> "Pointer | None":
        # Indexes built before the rename to "snapshot" name theirs "generation".
        name = (meta or {}).get("snapshot") or (meta or {}).get("generation")
        if not name:
            return None
        return cls(
            snapshot=str(name), built_at=float(meta.get("built_at", 0)),
            fingerprint=str(meta.get("fingerprint", "")), articles=int(meta.get("articles", 0)),
            chunks=int(meta.get("chunks", 0)), summary=json.loads(meta.get("summary") or "{}"),
            collection=meta.get("collection"), seq=int(meta.get("seq", 0)),
            deleted_rows=int(meta.get("deleted_rows", 0)),
        )


def collection_missing(exc: BaseException) -> bool:
    """Whether Chroma said that a collection does not exist: not the same as a timeout or a
    refused connection, after which it may well still be there."""
    from chromadb.errors import NotFoundError

    # chromadb before 0.6 said it with a ValueError.
    return isinstance(exc, NotFoundError) or (isinstance(exc, ValueError)
                                              and "does not exist" in str(exc))


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise StoreUnavailable(
                f"the index store is unavailable: the Chroma server at "
                f"{settings.chroma_host}:{settings.chroma_port} is unreachable: {exc}"
            ) from exc
        _bound_http_timeout(client, settings.chroma_timeout_s)
        return client
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _bound_http_timeout(client, seconds: float) -> None:
    """chromadb's HTTP client waits forever on a server that stopped answering; a request to a
    hung server must fail (and become a 503) instead of hanging the caller."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 3.0))


def is_snapshot_name(prefix: str, name: str) -> bool:
    """A snapshot collection of this index, named as new_snapshot_name names them. The exact
    shape matters: garbage collection drops what matches, and another index on the same Chroma
    server may have a longer prefix ("news-staging" beside "news"). "-g" names come from indexes
    built before the rename to "snapshot"; they serve as before."""
    return re.fullmatch(rf"{re.escape(prefix)}-[sg]\d{{14}}-[0-9a-f]{{6}}", name) is not None


class Store:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.prefix = settings.collection
        self.client = _client(settings)

    @property
    def location(self) -> str:
        if self.settings.chroma_host:
            return f"chroma server {self.settings.chroma_host}:{self.settings.chroma_port}"
        return str(self.settings.index_dir / "chroma")

    def _meta(self):
        return self.client.get_or_create_collection(
            f"{self.prefix}-meta", embedding_function=None, metadata={"kind": "pointer"}
        )

    def current(self) -> Pointer | None:
        return Pointer.from_metadata(self._meta().metadata)

    def set_current(self, pointer: Pointer) -> None:
        self._meta().modify(metadata={"kind": "pointer", **pointer.as_metadata()})

    def new_snapshot_name(self) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        return f"{self.prefix}-s{stamp}-{secrets.token_hex(3)}"

    def create_collection(self, snapshot: str) -> ChromaCollection:
        return ChromaCollection(self.client.create_collection(
            snapshot, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"kind": "snapshot"},
        ))

    def collection(self, snapshot: str) -> ChromaCollection:
        return ChromaCollection(self.client.get_collection(snapshot, embedding_function=None))

    def collections(self) -> list[str]:
        names = [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]
        return sorted(n for n in names if is_snapshot_name(self.prefix, n))

    def drop(self, snapshot: str) -> None:
        try:
            self.client.delete_collection(snapshot)
        except Exception:  # already gone: another worker cleaned it up
            pass
