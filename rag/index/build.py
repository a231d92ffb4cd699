"""Incremental rebuild: seeds → cleaned articles → chunks → vectors → a new snapshot → pointer.

New articles are added, changed ones re-embedded, removed ones dropped; unchanged ones are copied
from the serving snapshot by content hash. The pointer moves only once the new snapshot is
complete, so a failed or killed rebuild leaves the previous index serving."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rag.index import snapshot as snap
from rag.ingest.loading import RawArticle, load_articles
from rag.ingest.chunking import Chunk, chunk_article
from rag.ingest.cleaning import CLEANING_VERSION, Article, clean_articles
from rag.config import Settings
from rag.errors import RebuildInProgress, StoreUnavailable
from rag.index.embedding import Embedder, embedder_name, get_embedder
from rag.index.store import Pointer, Store, collection_missing

log = logging.getLogger(__name__)
PIPELINE_VERSION = 1
COPY_BATCH = 1000
EMBED_BATCH = 256

Progress = Callable[[str, int, int], None]


@dataclass
class BuildSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[dict] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    snapshot: str | None = None
    changed: bool = False
    unsafe_urls: int = 0  # non-http(s) URLs taken off articles that were kept

    def line(self) -> str:
        reasons: dict[str, int] = {}
        for skip in self.skipped:
            reasons[skip["reason"]] = reasons.get(skip["reason"], 0) + 1
        skipped = f"{len(self.skipped)} skipped" + (
            " (" + "; ".join(f"{n}× {r}" for r, n in sorted(reasons.items())) + ")" if reasons else ""
        )
        if self.unsafe_urls:
            skipped += f", {self.unsafe_urls} unsafe URL{'s' if self.unsafe_urls != 1 else ''} removed"
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged, {skipped}; {self.articles} articles, "
                f"{self.chunks} chunks in {self.seconds:.1f}s")

    def as_dict(self) -> dict:
        return asdict(self)


def fingerprint(settings: Settings, embedder: Embedder | None = None) -> str:
    """Identifies the vector space and chunking: an index built otherwise is re-embedded."""
    name = embedder.name if embedder is not None else embedder_name(settings)
    return (f"{name}|chunks={settings.chunk_size}/{settings.chunk_overlap}"
            f"|v{PIPELINE_VERSION}")


def fingerprint_embedder(fp: str) -> str:
    """The embedder named in a fingerprint: the vector space an index was built in."""
    return fp.split("|", 1)[0]


def raw_hash(article: RawArticle) -> str:
    digest = hashlib.sha256()
    for part in (article.id, article.title, article.published or "", article.url or "",
                 article.source, article.text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


@contextmanager
def rebuild_lock(index_dir: Path):
    """One rebuild at a time per index folder, across processes. The kernel drops the lock when
    its holder dies, so a killed rebuild never blocks the next one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / "rebuild.lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RebuildInProgress("another rebuild of this index is running") from exc
        yield
    finally:
        handle.close()


def _unique(raw: list[RawArticle], skipped: list[dict]) -> list[RawArticle]:
    by_id: dict[str, RawArticle] = {}
    for article in raw:
        if article.id in by_id:
            skipped.append({"source": article.source,
                            "reason": f"duplicate article id '{article.id}' (kept {by_id[article.id].source})"})
        else:
            by_id[article.id] = article
    return list(by_id.values())


def _drop_same_text(articles: list[Article], skipped: list[dict]) -> list[Article]:
    seen: dict[str, Article] = {}
    kept = []
    for article in articles:
        key = hashlib.sha256(f"{article.title}\x1f{article.text}".encode("utf-8")).hexdigest()
        if key in seen:
            skipped.append({"source": article.source,
                            "reason": f"same text as {seen[key].source} ({seen[key].id})"})
            continue
        seen[key] = article
        kept.append(article)
    return kept


def rebuild(settings: Settings, seeds: Path | None = None, progress: Progress | None = None,
            show_bar: bool = False, store: Store | None = None,
            embedder: Embedder | None = None) -> BuildSummary:
    """`store` and `embedder` default to the ones the settings name."""
    started = time.perf_counter()
    with rebuild_lock(settings.index_dir):
        summary = _rebuild_locked(settings, Path(seeds or settings.seeds_dir), progress, show_bar,
                                  store or Store(settings), embedder or get_embedder(settings),
                                  started)
    summary.seconds = time.perf_counter() - started
    return summary


def _rebuild_locked(settings: Settings, seeds: Path, progress: Progress | None, show_bar: bool,
                    store: Store, embedder: Embedder, started: float) -> BuildSummary:
    report = progress or (lambda stage, done, total: None)
    summary = BuildSummary()
    report("reading articles", 0, 0)
    loaded = load_articles(seeds)
    summary.skipped = [{"source": s.source, "reason": s.reason} for s in loaded.skipped]
    summary.unsafe_urls = loaded.unsafe_urls
    raw = _unique(loaded.articles, summary.skipped)
    raw_hashes = {a.id: raw_hash(a) for a in raw}
    digest = _digest(raw_hashes)

    pointer = store.current()
    fp = fingerprint(settings, embedder)
    previous = _load_serving(settings, store, pointer)
    if pointer is not None and previous is not None:
        if pointer.fingerprint == fp and pointer.summary.get("raw_hashes_digest") == digest:
            # Same files, same contents, same pipeline: cleaning is deterministic, so nothing
            # can have changed and the whole corpus need not be cleaned again.
            summary.skipped.extend(pointer.summary.get("cleaning_skips", []))
            return _unchanged(summary, previous)

    report("cleaning", 0, len(raw))
    articles, clean_skips = clean_articles(raw)
    cleaning_skips = [{"source": s, "reason": r} for s, r in clean_skips]
    articles = _drop_same_text(articles, cleaning_skips)
    summary.skipped.extend(cleaning_skips)

    before = set(previous.articles) if previous is not None else set()
    old = previous.articles if previous is not None and pointer.fingerprint == fp else {}
    kept = [a for a in articles if a.id in old and old[a.id].sha256 == a.sha256]
    to_embed = [a for a in articles if not (a.id in old and old[a.id].sha256 == a.sha256)]
    summary.added = sum(1 for a in to_embed if a.id not in before)
    summary.updated = len(to_embed) - summary.added
    summary.removed = len(before - {a.id for a in articles})
    summary.unchanged = len(kept)
    # The content hash leaves the file out: an article moved to another file is kept (copied,
    # not embedded again) but the snapshot must change so that it is cited from its new file.
    moved = any(old[a.id].source != a.source for a in kept)
    summary.changed = previous is None or bool(to_embed or summary.removed or moved)
    pointer_summary = {"raw_hashes_digest": digest, "cleaning_skips": cleaning_skips}

    if not summary.changed:
        # Files were touched but their cleaned articles are the same: keep the snapshot.
        pointer_summary["line"] = pointer.summary.get("line", "")
        store.set_current(Pointer(**{**vars(pointer), "summary": pointer_summary}))
        return _unchanged(summary, previous)

    built = _write_snapshot(settings, store, embedder, fp, previous, kept, to_embed, raw_hashes,
                            report, show_bar)
    summary.articles, summary.chunks, summary.snapshot = len(built.articles), len(built), built.name
    summary.embedded_chunks = len(built) - sum(previous.articles[a.id].chunks for a in kept)
    summary.seconds = time.perf_counter() - started
    pointer_summary["line"] = summary.line()
    store.set_current(Pointer(snapshot=built.name, built_at=time.time(), fingerprint=fp,
                              articles=summary.articles, chunks=summary.chunks,
                              summary=pointer_summary))
    _collect_garbage(store, settings.index_dir, built=built.name,
                     serving=pointer.snapshot if pointer else None)
    return summary


def _load_serving(settings: Settings, store: Store,
                  pointer: Pointer | None) -> snap.Snapshot | None:
    """The serving snapshot, whose unchanged articles are copied rather than embedded again.

    Only a collection that Chroma says no longer exists (deleted by hand) means building from
    scratch. Any other failure, a timeout or a dropped connection, stops the rebuild: going on
    as if the index were empty would re-embed everything for nothing, and garbage collection
    would then drop the snapshot that is still serving."""
    if pointer is None:
        return None
    try:
        return snap.load(settings.index_dir, pointer.snapshot, pointer.fingerprint, store.collection)
    except Exception as exc:
        if collection_missing(exc):
            log.warning("index snapshot %s no longer exists (%s); rebuilding all",
                        pointer.snapshot, exc)
            return None
        raise StoreUnavailable(
            f"the rebuild stopped: the serving index snapshot {pointer.snapshot} could not be read "
            f"({type(exc).__name__}: {exc}); the previous index is unchanged and still serving"
        ) from exc


def _unchanged(summary: BuildSummary, previous: snap.Snapshot) -> BuildSummary:
    summary.unchanged = len(previous.articles)
    summary.articles, summary.chunks = len(previous.articles), len(previous)
    summary.snapshot = previous.name
    return summary


def _write_snapshot(settings, store, embedder, fp, previous, kept, to_embed, raw_hashes, report,
                    show_bar) -> snap.Snapshot:
    """A complete new snapshot in Chroma and in the local cache; removed again on any failure."""
    name = store.new_snapshot_name()
    collection = store.create_collection(name)
    try:
        ids, metas, texts, copied = _copy_unchanged(previous, kept, raw_hashes, collection, report)
        report("chunking", 0, len(to_embed))
        chunks = [c for a in to_embed for c in chunk_article(a, settings.chunk_size, settings.chunk_overlap)]
        width = copied.shape[1] if copied is not None else None
        embedded = _embed_and_add(embedder, chunks, raw_hashes, collection, report, show_bar, width)
        for chunk in chunks:
            ids.append(chunk.id)
            metas.append(snap.chunk_metadata(chunk, raw_hashes[chunk.article_id]))
            texts.append(chunk.text)
        blocks = [v for v in (copied, embedded) if v is not None]
        # An empty snapshot still has vectors of the model's width, for whoever adds to it.
        vectors = (np.concatenate(blocks) if blocks
                   else np.zeros((0, embedder.dimension), dtype=np.float32))
        report("building BM25", 0, len(ids))
        built = snap.assemble(name, fp, ids, metas, texts, vectors)
        snap.save(built, settings.index_dir)
        return built
    except BaseException:
        store.drop(name)
        shutil.rmtree(snap.folder(settings.index_dir, name), ignore_errors=True)
        raise


def _digest(raw_hashes: dict[str, str]) -> str:
    """Identifies the raw input and the cleaning that applies to it."""
    digest = hashlib.sha256(f"cleaning-v{CLEANING_VERSION}\n".encode())
    for article_id in sorted(raw_hashes):
        digest.update(f"{article_id}\x1f{raw_hashes[article_id]}\n".encode("utf-8"))
    return digest.hexdigest()


def _copy_unchanged(previous, kept: list[Article], raw_hashes: dict[str, str], collection, report):
    """Carry unchanged articles' chunks, vectors included, into the new snapshot (no vectors:
    None, since no width is known for them)."""
    ids, metas, texts, rows = [], [], [], []
    if previous is None or not kept:
        return ids, metas, texts, None
    keep = {a.id: a for a in kept}
    for row, (cid, record) in enumerate(zip(previous.ids, previous.records)):
        if record["article_id"] not in keep:
            continue
        entry = previous.articles[record["article_id"]]
        # The file the article is in now: the old record may name the file it moved from.
        chunk = Chunk(record["article_id"], record["n"], record["text"], record["title"],
                      record["published"], keep[record["article_id"]].source, record["url"],
                      entry.sha256)
        ids.append(cid)
        metas.append(snap.chunk_metadata(chunk, raw_hashes.get(chunk.article_id, entry.raw_hash)))
        texts.append(record["text"])
        rows.append(row)
    vectors = previous.vectors[rows].astype(np.float32)
    for start in range(0, len(ids), COPY_BATCH):
        end = start + COPY_BATCH
        collection.add(ids=ids[start:end], embeddings=vectors[start:end],
                       documents=texts[start:end], metadatas=metas[start:end])
        report("copying unchanged chunks", min(end, len(ids)), len(ids))
    return ids, metas, texts, vectors


def _embed_and_add(embedder: Embedder, chunks: list[Chunk], raw_hashes: dict[str, str],
                   collection, report, show_bar: bool, width: int | None) -> np.ndarray | None:
    """The new chunks' vectors (None for no chunks), as wide as the copied ones (`width`)."""
    if not chunks:
        return None
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", dynamic_ncols=True)
    out = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start:start + EMBED_BATCH]
        vectors = embedder.embed([c.embed_text for c in batch])
        width = _check_width(embedder, vectors, width)
        collection.add(
            ids=[c.id for c in batch], embeddings=vectors, documents=[c.text for c in batch],
            metadatas=[snap.chunk_metadata(c, raw_hashes[c.article_id]) for c in batch],
        )
        out.append(vectors)
        report("embedding", start + len(batch), len(chunks))
        if bar:
            bar.update(len(batch))
    if bar:
        bar.close()
    return np.concatenate(out)


def _check_width(embedder: Embedder, vectors: np.ndarray, width: int | None) -> int:
    # Same embedder name, other width: the model behind the name changed, and the unchanged
    # articles' vectors cannot share a collection with the new ones.
    if width is not None and vectors.shape[1] != width:
        raise ValueError(f"{embedder.name} now gives {vectors.shape[1]}-wide vectors where the "
                         f"index holds {width}-wide ones: the model behind that name changed; "
                         "name the new model differently to re-embed everything")
    return vectors.shape[1]


def _collect_garbage(store: Store, index_dir: Path, built: str, serving: str | None) -> None:
    """Drop snapshots that no longer serve: all but the new one, the one serving when the
    rebuild started (a reader may still be finishing a request on it) and the one the pointer
    names now (another machine's rebuild against the same Chroma server may have moved it).
    Orphans of killed rebuilds go too."""
    try:
        current = store.current()
        names = store.snapshots()
    except Exception as exc:  # housekeeping only: the next rebuild collects them
        log.warning("garbage collection skipped: the store could not be read (%s)", exc)
        return
    keep = {built} | {name for name in (serving, current and current.snapshot) if name}
    for name in names:
        if name not in keep:
            store.drop(name)
    for root in snap.CACHE_ROOTS:
        if (index_dir / root).is_dir():
            for path in (index_dir / root).iterdir():
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)
