"""One index snapshot in memory: chunk records, their vectors, BM25 and the article manifest.

Chroma holds the truth. The folder `index/snapshots/<name>/` is a local cache of what can be
derived from it, written by the rebuild and re-derived from Chroma by any process that lacks it
(another API worker on another machine, for instance)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.index.copies import find_stories
from rag.ingest.chunking import Chunk, chunk_id, embed_text
from rag.ingest.dates import to_timestamp
from rag.index.lexical import Bm25Index, tokenize_many

CHUNK_FIELDS = ("article_id", "n", "title", "published", "source", "url")


@dataclass
class ArticleEntry:
    id: str
    title: str
    published: str | None
    source: str
    url: str | None
    sha256: str
    raw_hash: str
    chunks: int


@dataclass
class Snapshot:
    name: str
    fingerprint: str
    ids: list[str]
    records: list[dict]  # per chunk: CHUNK_FIELDS + text
    vectors: np.ndarray  # float16, normalized, one row per chunk
    bm25: Bm25Index
    articles: dict[str, ArticleEntry]
    # BM25 over whole articles (title and all chunk texts), rows in article_order.
    article_bm25: Bm25Index
    article_order: list[str]
    # article id -> story id, for articles with near-identical copies (rag.index.copies);
    # found from the chunks when not given.
    stories: dict[str, str] | None = None
    id_to_row: dict[str, int] = field(init=False)
    published_ts: np.ndarray = field(init=False)
    sources: np.ndarray = field(init=False)

    def __post_init__(self):
        self.id_to_row = {cid: i for i, cid in enumerate(self.ids)}
        stamps = [to_timestamp(r.get("published")) for r in self.records]
        self.published_ts = np.array([s if s is not None else np.nan for s in stamps], dtype=np.float64)
        self.sources = np.array([r["source"] for r in self.records], dtype=object)
        self.article_row = {aid: i for i, aid in enumerate(self.article_order)}
        self._vectors32: np.ndarray | None = None
        self.has_dates = bool((~np.isnan(self.published_ts)).any())
        if self.stories is None:
            self.stories = stories_of(self.records)
        self.story_members: dict[str, list[str]] = {}
        for article_id, story in sorted(self.stories.items()):
            self.story_members.setdefault(story, []).append(article_id)
        self.first_row: dict[str, int] = {}
        for row, record in enumerate(self.records):
            self.first_row.setdefault(record["article_id"], row)

    def story_of(self, article_id: str) -> str:
        return self.stories.get(article_id, article_id)

    @property
    def vectors32(self) -> np.ndarray:
        """The vectors as float32, made on first use: numpy has no fast float16 product."""
        if self._vectors32 is None:
            self._vectors32 = self.vectors.astype(np.float32)
        return self._vectors32

    def __len__(self) -> int:
        return len(self.ids)


def chunk_metadata(chunk: Chunk, raw_hash: str) -> dict:
    meta = {
        "article_id": chunk.article_id, "n": chunk.n, "title": chunk.title,
        "source": chunk.source, "sha256": chunk.sha256, "raw_hash": raw_hash,
    }
    # Chroma metadata cannot hold None: absent fields are simply left out.
    if chunk.published:
        meta["published"] = chunk.published
        stamp = to_timestamp(chunk.published)
        if stamp is not None:
            meta["published_ts"] = stamp
    if chunk.url:
        meta["url"] = chunk.url
    return meta


def record_from_metadata(meta: dict, text: str) -> dict:
    record = {k: meta.get(k) for k in CHUNK_FIELDS}
    record["n"] = int(record["n"])
    record["text"] = text
    return record


def manifest_from_metadata(metas: list[dict]) -> dict[str, ArticleEntry]:
    articles: dict[str, ArticleEntry] = {}
    for meta in metas:
        entry = articles.get(meta["article_id"])
        if entry is None:
            articles[meta["article_id"]] = ArticleEntry(
                id=meta["article_id"], title=meta["title"], published=meta.get("published"),
                source=meta["source"], url=meta.get("url"), sha256=meta["sha256"],
                raw_hash=meta.get("raw_hash", ""), chunks=1,
            )
        else:
            entry.chunks += 1
    return articles


def assemble(name: str, fingerprint: str, ids: list[str], metas: list[dict], texts: list[str],
             vectors: np.ndarray) -> Snapshot:
    """A snapshot from what Chroma holds (or is about to hold), ordered by article and chunk."""
    order = sorted(range(len(ids)), key=lambda i: (metas[i]["article_id"], int(metas[i]["n"])))
    ids = [ids[i] for i in order]
    metas = [metas[i] for i in order]
    records = [record_from_metadata(metas[k], texts[i]) for k, i in enumerate(order)]
    vectors = np.asarray(vectors, dtype=np.float16)
    if order:
        vectors = vectors[order]
    else:
        # No rows: as wide as the caller's embedder, or 0 where nothing says (an empty collection
        # read back from Chroma); retrieval never scores an empty snapshot, so either serves.
        vectors = vectors.reshape(0, vectors.shape[1] if vectors.ndim == 2 else 0)
    bm25 = Bm25Index.build(tokenize_many(
        [embed_text(r["title"], r["published"], r["text"]) for r in records]))
    article_order, article_bm25 = _article_bm25(records)
    return Snapshot(name, fingerprint, ids, records, vectors, bm25, manifest_from_metadata(metas),
                      article_bm25, article_order)


def _article_bm25(records: list[dict]) -> tuple[list[str], Bm25Index]:
    """Whole-article BM25: a question's words spread over several chunks still meet here. The
    overlap between chunks repeats some words; for ranking articles that does no harm."""
    texts: dict[str, list[str]] = {}
    for record in records:
        texts.setdefault(record["article_id"], [record["title"]]).append(record["text"])
    order = sorted(texts)
    return order, Bm25Index.build(tokenize_many([" ".join(texts[a]) for a in order]))


def stories_of(records: list[dict]) -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for record in records:
        texts.setdefault(record["article_id"], [record["title"]]).append(record["text"])
    return find_stories({article_id: " ".join(parts) for article_id, parts in texts.items()})


CACHE_ROOTS = ("snapshots", "generations")  # "generations": indexes built before the rename


def folder(index_dir: Path, name: str) -> Path:
    return index_dir / CACHE_ROOTS[0] / name


def _cached_folder(index_dir: Path, name: str) -> Path:
    for root in CACHE_ROOTS:
        if (index_dir / root / name / "info.json").exists():
            return index_dir / root / name
    return folder(index_dir, name)


def save(snapshot: Snapshot, index_dir: Path) -> Path:
    """Write the cache folder whole or not at all (temporary folder, then rename)."""
    target = folder(index_dir, snapshot.name)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for cid, record in zip(snapshot.ids, snapshot.records):
            fh.write(json.dumps({"id": cid, **record}, ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", snapshot.vectors)
    snapshot.bm25.save(tmp / "bm25")
    snapshot.article_bm25.save(tmp / "article_bm25")
    (tmp / "article_order.json").write_text(json.dumps(snapshot.article_order))
    (tmp / "stories.json").write_text(json.dumps(snapshot.stories))
    manifest = {aid: vars(entry) for aid, entry in snapshot.articles.items()}
    (tmp / "articles.json").write_text(json.dumps(manifest, ensure_ascii=False))
    (tmp / "info.json").write_text(json.dumps({"fingerprint": snapshot.fingerprint}))
    _fsync_tree(tmp)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())


def load_cached(index_dir: Path, name: str) -> Snapshot | None:
    path = _cached_folder(index_dir, name)
    if not (path / "info.json").exists():
        return None
    try:
        info = json.loads((path / "info.json").read_text())
        ids, records = [], []
        with open(path / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                ids.append(row.pop("id"))
                records.append(row)
        vectors = np.load(path / "vectors.npy")
        bm25 = Bm25Index.load(path / "bm25")
        article_bm25 = Bm25Index.load(path / "article_bm25")
        article_order = json.loads((path / "article_order.json").read_text())
        manifest = json.loads((path / "articles.json").read_text())
    except (OSError, ValueError, KeyError):
        return None  # a damaged or older cache is re-derived from Chroma
    articles = {aid: ArticleEntry(**entry) for aid, entry in manifest.items()}
    snapshot = Snapshot(name, info["fingerprint"], ids, records, vectors, bm25, articles,
                        article_bm25, article_order, _cached_stories(path))
    if not (path / "stories.json").exists():  # a cache from before copies were found
        try:
            (path / "stories.json").write_text(json.dumps(snapshot.stories))
        except OSError:
            pass
    return snapshot


def _cached_stories(path: Path) -> dict[str, str] | None:
    try:
        stories = json.loads((path / "stories.json").read_text())
    except (OSError, ValueError):
        return None
    return stories if isinstance(stories, dict) else None


def load_from_collection(collection, name: str, fingerprint: str, batch: int = 2000) -> Snapshot:
    ids, metas, texts, vectors = [], [], [], []
    total = collection.count()
    for offset in range(0, total, batch):
        got = collection.get(limit=batch, offset=offset,
                             include=["metadatas", "documents", "embeddings"])
        ids.extend(got["ids"])
        metas.extend(got["metadatas"])
        texts.extend(got["documents"])
        vectors.extend(np.asarray(got["embeddings"], dtype=np.float32))
    return assemble(name, fingerprint, ids, metas, texts, np.array(vectors))


def load(index_dir: Path, name: str, fingerprint: str, collection_factory) -> Snapshot:
    """The cached snapshot, or one derived from Chroma and then cached."""
    cached = load_cached(index_dir, name)
    if cached is not None:
        return cached
    snapshot = load_from_collection(collection_factory(name), name, fingerprint)
    try:
        save(snapshot, index_dir)
    except OSError:
        pass  # a read-only or full disk only costs the cache, not the answer
    return snapshot


__all__ = ["ArticleEntry", "Snapshot", "assemble", "chunk_id", "chunk_metadata", "load", "save"]
