"""Rows written to a Chroma collection: new chunks embedded and added, and the chunks of articles
carried from the snapshot before (unchanged, or moved to another file) added with their vectors
under new row ids."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from itertools import islice

import numpy as np

from rag.index import snapshot as snap
from rag.index.embedding import Embedder
from rag.index.row_sink import RowSink
from rag.ingest.chunking import Chunk, chunk_article

COPY_BATCH = 1000
EMBED_BATCH = 256
CHUNK_AHEAD = 512  # articles cut ahead of the encoder


def new_rows(chunks: list[Chunk], raw_hashes: dict[str, str], seq: int):
    ids = [snap.row_id(c.article_id, c.n, seq) for c in chunks]
    metas = [snap.chunk_metadata(c, raw_hashes[c.article_id], seq) for c in chunks]
    records = [snap.record_from_metadata(m, c.text) for m, c in zip(metas, chunks)]
    return ids, metas, records


def carried(previous: snap.Snapshot, moved: list, raw_hashes: dict[str, str], seq: int):
    """Chunks of articles carried from the snapshot before (moved to another file, or all the
    unchanged ones in a compaction) under new row ids: same text and vectors, the file they are
    in now named."""
    chunks, rows = [], []
    for article in moved:
        entry = previous.articles[article.id]
        first = previous.first_row[article.id]
        for row in range(first, first + entry.chunks):
            record = previous.records[row]
            chunks.append(Chunk(article.id, record["n"], record["text"], record["title"],
                                record["published"], article.source, record["url"], entry.sha256))
            rows.append(row)
    return chunks, previous.vectors[rows].astype(np.float32)


def add(collection, ids, vectors, texts, metas, report=None) -> None:
    """Rows with their vectors, in batches; `report(done, total)` after each."""
    for start in range(0, len(ids), COPY_BATCH):
        end = start + COPY_BATCH
        collection.add(ids[start:end], vectors[start:end], texts[start:end], metas[start:end])
        if report:
            report(min(end, len(ids)), len(ids))


def copy_unchanged(previous, kept: list, raw_hashes: dict[str, str], collection, report,
                    seq: int):
    """Carry unchanged articles' chunks, vectors included, into the new collection (no vectors:
    None, since no width is known for them)."""
    if previous is None or not kept:
        return [], [], [], None
    chunks, vectors = carried(previous, kept, raw_hashes, seq)
    ids, metas, _ = new_rows(chunks, raw_hashes, seq)
    texts = [c.text for c in chunks]
    add(collection, ids, vectors, texts, metas,
        lambda done, total: report("copying unchanged chunks", done, total))
    return ids, metas, texts, vectors


def chunked_ahead(articles: Iterable, chunk_size: int, chunk_overlap: int,
                  ahead: int = CHUNK_AHEAD) -> Iterator[list[Chunk]]:
    """Each article's chunks, in order, cut in a thread ahead of the consumer: the sentence
    splitter is Python and runs while the encoder, which releases the GIL, leaves a core idle.
    At most `ahead` articles ahead: the splitter is faster than the encoder, and unbounded it
    would hold the chunks of the whole archive while the encoder catches up."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunking")
    items = iter(articles)
    pending = deque(pool.submit(chunk_article, a, chunk_size, chunk_overlap)
                    for a in islice(items, ahead))
    try:
        while pending:
            chunks = pending.popleft().result()
            for article in islice(items, 1):
                pending.append(pool.submit(chunk_article, article, chunk_size, chunk_overlap))
            yield chunks
    finally:
        # A failed rebuild does not wait for the rest of the folder to be chunked.
        pool.shutdown(wait=True, cancel_futures=True)


def _released(items: list) -> Iterator:
    for n in range(len(items)):
        item, items[n] = items[n], None
        yield item


def _batches(chunk_lists: Iterable[list[Chunk]], size: int) -> Iterator[tuple[list[Chunk], int]]:
    """Chunks in batches of about `size`, each with how many articles are done with it."""
    batch, articles = [], 0
    for chunks in chunk_lists:
        batch += chunks
        articles += 1
        if len(batch) >= size:
            yield batch, articles
            batch = []
    if batch:
        yield batch, articles


@dataclass
class Embedded:
    chunks: list[Chunk]
    ids: list[str]
    metas: list[dict]
    records: list[dict]
    vectors: np.ndarray | None
    width: int | None = None


def embed_and_add(embedder: Embedder, articles: list, settings, raw_hashes: dict[str, str], seq: int,
                  collection, report, show_bar: bool, width: int | None,
                  sink: RowSink | None = None) -> Embedded:
    """The articles chunked, embedded and added to the collection, as wide as the copied
    vectors (`width`). Progress counts articles: their chunks are known only as they are cut.
    With a `sink`, each batch goes there as it is done, nothing is kept here but the width, and
    each article leaves `articles` (its slot set to None) once it is cut, so that the text of
    the archive is not held to the end."""
    done = Embedded([], [], [], [], None)
    if not articles:
        done.vectors = np.zeros((0, width or embedder.dimension), dtype=np.float32)
        return done
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=len(articles), unit="article", desc="embedding", dynamic_ncols=True)
    out, finished, writing = [], 0, None
    # Chroma writes one batch while the encoder works on the next: both release the GIL, and
    # the encoder's threads leave some of the cores idle. One write in flight at a time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-add") as writer, \
            closing(chunked_ahead(_released(articles) if sink is not None else articles,
                                  settings.chunk_size, settings.chunk_overlap)) as ahead:
        for batch, articles_done in _batches(ahead, EMBED_BATCH):
            ids, metas, records = new_rows(batch, raw_hashes, seq)
            vectors = embedder.embed([c.embed_text for c in batch])
            width = check_width(embedder, vectors, width)
            if writing is not None:
                writing.result()  # a failed write stops the rebuild here
            writing = writer.submit(collection.add, ids, vectors, [c.text for c in batch], metas)
            if sink is not None:
                sink.add(ids, metas, records, vectors)
            else:
                for part, items in zip((done.chunks, done.ids, done.metas, done.records),
                                       (batch, ids, metas, records)):
                    part += items
                out.append(vectors)
            report("embedding", articles_done, len(articles))
            if bar:
                bar.update(articles_done - finished)
            finished = articles_done
        if writing is not None:
            writing.result()
    if bar:
        bar.close()
    done.width = width
    # The width of no vectors is asked only then: a remote embedder asks its server for it.
    done.vectors = (np.concatenate(out) if out
                    else np.zeros((0, width or embedder.dimension), dtype=np.float32))
    return done


def check_width(embedder: Embedder, vectors: np.ndarray, width: int | None) -> int:
    # Same embedder name, other width: the model behind the name changed, and the unchanged
    # articles' vectors cannot share a collection with the new ones.
    if width is not None and vectors.shape[1] != width:
        raise ValueError(f"{embedder.name} now gives {vectors.shape[1]}-wide vectors where the "
                         f"index holds {width}-wide ones: the model behind that name changed; "
                         "name the new model differently to re-embed everything")
    return vectors.shape[1]
