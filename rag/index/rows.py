"""Rows written to a Chroma collection: new chunks embedded and added, and the chunks of articles
carried from the snapshot before (unchanged, or moved to another file) added with their vectors
under new row ids."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rag.index import snapshot as snap
from rag.index.embedding import Embedder
from rag.ingest.chunking import Chunk

COPY_BATCH = 1000
EMBED_BATCH = 256


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
        collection.add(ids=ids[start:end], embeddings=vectors[start:end],
                       documents=texts[start:end], metadatas=metas[start:end])
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


def embed_and_add(embedder: Embedder, chunks: list[Chunk], ids: list[str], metas: list[dict],
                  collection, report, show_bar: bool, width: int | None) -> np.ndarray:
    """The new chunks' vectors (none: an empty array), as wide as the copied ones (`width`)."""
    if not chunks:
        return np.zeros((0, width or embedder.dimension), dtype=np.float32)
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", dynamic_ncols=True)
    out = []
    # Chroma writes one batch while the encoder works on the next: both release the GIL, and
    # the encoder's threads leave some of the cores idle. One write in flight at a time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-add") as writer:
        writing = None
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start:start + EMBED_BATCH]
            vectors = embedder.embed([c.embed_text for c in batch])
            width = check_width(embedder, vectors, width)
            if writing is not None:
                writing.result()  # a failed write stops the rebuild here
            writing = writer.submit(collection.add, ids=ids[start:start + EMBED_BATCH],
                                    embeddings=vectors, documents=[c.text for c in batch],
                                    metadatas=metas[start:start + EMBED_BATCH])
            out.append(vectors)
            report("embedding", start + len(batch), len(chunks))
            if bar:
                bar.update(len(batch))
        if writing is not None:
            writing.result()
    if bar:
        bar.close()
    return np.concatenate(out)


def check_width(embedder: Embedder, vectors: np.ndarray, width: int | None) -> int:
    # Same embedder name, other width: the model behind the name changed, and the unchanged
    # articles' vectors cannot share a collection with the new ones.
    if width is not None and vectors.shape[1] != width:
        raise ValueError(f"{embedder.name} now gives {vectors.shape[1]}-wide vectors where the "
                         f"index holds {width}-wide ones: the model behind that name changed; "
                         "name the new model differently to re-embed everything")
    return vectors.shape[1]
