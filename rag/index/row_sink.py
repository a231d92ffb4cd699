"""A build's new rows, indexed as they come instead of held until the end (issue 28).

A build used to keep every new chunk as objects (the chunk, its Chroma metadata, its record) and
every vector as float32 until it assembled the snapshot, about 12 KB a chunk. Here each batch of
whole articles is reduced at once to what the snapshot keeps: the records go to a file beside
the snapshot folder (read back by offset, rag.index.records), the float16 vectors and each
article's MinHash sketch to `.npy` files there (read back by row), the terms to sparse counts,
each article to its manifest entry. What is left in memory at the end is sparse counts and short
strings, and the snapshot is derived from them as from a saved delta."""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
from scipy import sparse

from rag.index import snapshot as snap
from rag.index.copies import NUM_PERM, sketch_texts
from rag.index.lexical import Vocabulary, tokenize
from rag.index.records import Records, encode_row
from rag.index.row_blocks import NpyWriter, RowBlocks
from rag.ingest.chunking import embed_text

COLUMNS = ("article_id", "n", "published", "source")


class RowSink:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")
        self._at = 0
        self.ids: list[str] = []
        # Machine integers, not a Python int each: a build of millions of rows holds them all.
        self.offsets = array("q")
        self.lengths = array("q")
        self.columns: dict[str, list] = {name: [] for name in COLUMNS}
        # Vectors and sketches wait in the spill folder too, read back by row at the end.
        self.vectors = NpyWriter(path.parent / "vectors.npy", np.float16)
        self.vocab = Vocabulary()
        self.chunk_counts: list[sparse.csr_matrix] = []
        self.article_counts: list[sparse.csr_matrix] = []
        self.sketches = NpyWriter(path.parent / "sketches.npy", np.uint32)
        self.article_order: list[str] = []
        self.entries: dict[str, snap.ArticleEntry] = {}

    def add(self, ids: list[str], metas: list[dict], records: list[dict], vectors: np.ndarray) -> None:
        """One batch of rows holding whole articles, each article's rows together and in order."""
        for cid, record in zip(ids, records):
            line = encode_row(cid, record)
            self._file.write(line)
            self.offsets.append(self._at)
            self.lengths.append(len(line))
            self._at += len(line)
            for name in COLUMNS:
                self.columns[name].append(record.get(name))
        self.ids.extend(ids)
        if len(ids):
            self.vectors.append(np.asarray(vectors, dtype=np.float16))
        self.chunk_counts.append(self.vocab.counts(
            [tokenize(embed_text(r["title"], r["published"], r["text"])) for r in records]))
        order = list(dict.fromkeys(r["article_id"] for r in records))
        texts = snap.article_texts(records, order)
        self.article_counts.append(self.vocab.counts([tokenize(t) for t in texts]))
        if texts:
            self.sketches.append(sketch_texts(texts))
        self.article_order.extend(order)
        self.entries.update(snap.manifest_from_metadata(metas))

    def finish(self, width: int) -> snap.NewRows:
        """The rows in the snapshot's order (by article id, then chunk number), ready for
        `snapshot.derive`; the file stays where it is, read by offset. Rows that came in that
        order already (files named by their articles, as they usually are) are not copied."""
        self._file.close()
        order = sorted(range(len(self.ids)),
                       key=lambda i: (self.columns["article_id"][i], int(self.columns["n"][i])))
        order = np.array(order, dtype=np.int64)
        in_order = bool((order == np.arange(len(order))).all())
        records = Records.in_file(self.path, np.frombuffer(self.offsets, dtype=np.int64),
                                  np.frombuffer(self.lengths, dtype=np.int64).astype(np.int32))
        articles = list(dict.fromkeys(self.columns["article_id"][i] for i in order))
        terms = list(self.vocab.terms)
        vectors = RowBlocks.of(self.vectors.finish(width))
        chunk_counts = _stack(self.chunk_counts, len(terms))
        article_counts = _stack(self.article_counts, len(terms))
        # Stacked: the batches' own matrices would double the counts through the derive.
        self.chunk_counts, self.article_counts = [], []
        sketches = RowBlocks.of(self.sketches.finish(NUM_PERM)) if self.sketches.rows else None
        if not in_order or articles != self.article_order:
            article_at = {a: i for i, a in enumerate(self.article_order)}
            article_rows = np.array([article_at[a] for a in articles], dtype=np.int64)
            records, vectors = records.take(order), vectors.gather(order)
            chunk_counts, article_counts = chunk_counts[order], article_counts[article_rows]
            sketches = sketches.gather(article_rows) if sketches is not None else None
            self.ids = [self.ids[i] for i in order]
            self.columns = {name: [values[i] for i in order] for name, values in self.columns.items()}
        return snap.NewRows(self.ids, records, vectors, {a: self.entries[a] for a in articles},
                            (terms, chunk_counts), (terms, article_counts), sketches, self.columns)

    def close(self) -> None:
        self._file.close()
        self.vectors.close()
        self.sketches.close()


def _stack(parts: list[sparse.csr_matrix], width: int) -> sparse.csr_matrix:
    if not parts:
        return sparse.csr_matrix((0, width), dtype=np.float32)
    return sparse.vstack([sparse.csr_matrix((p.data, p.indices, p.indptr), shape=(p.shape[0], width))
                          for p in parts], format="csr")


__all__ = ["RowSink"]
