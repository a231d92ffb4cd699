"""BM25 over chunk texts and whole articles, with the tokenizer shared by retrieval and answer
scoring.

The index keeps each document's term counts, not precomputed weights: a weight depends on the
collection's size and average length, so precomputed weights (as bm25s keeps them) must all be
recomputed when one article arrives. Counts are computed once per document and carried from one
snapshot to the next; the weights are computed at question time over the question's few terms."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from scipy import sparse

from rag.index import REWRITE_SHARE

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop words out, Snowball-stemmed; numbers are kept (they matter in news)."""
    stop = _stopwords()
    words = [w.replace("’", "'").split("'")[0] for w in _TOKEN.findall(text.lower())]
    return _stemmer().stemWords([w for w in words if w and w not in stop])


def coverage(query_tokens: list[str], passage_tokens: set[str], weights: list[float]) -> float:
    """Weighted share of the question's terms found in a passage (IDF weights for relevance,
    equal weights for picking sentences)."""
    if not query_tokens:
        return 0.0
    total = sum(weights)
    found = sum(w for t, w in zip(query_tokens, weights) if t in passage_tokens)
    return found / total if total else 0.0


K1 = 1.5
B = 0.75


class Vocabulary:
    """Term -> column. Append-only and shared by the snapshots derived from one another, so an
    update adds the new terms without copying the old ones; an index knows how many columns it
    has, and a term added later is unknown to it."""

    def __init__(self, terms: list[str] | None = None):
        self.terms: list[str] = list(terms or [])
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def column(self, term: str) -> int:
        column = self.index.get(term)
        if column is None:
            column = self.index[term] = len(self.terms)
            self.terms.append(term)
        return column

    def counts(self, token_lists: list[list[str]]) -> sparse.csr_matrix:
        """One row of term counts per token list; unseen terms are added."""
        indptr, columns = [0], []
        for tokens in token_lists:
            columns.extend(self.column(token) for token in tokens)
            indptr.append(len(columns))
        ones = np.ones(len(columns), dtype=np.float32)
        rows = sparse.csr_matrix((ones, np.array(columns, dtype=np.int32), np.array(indptr)),
                                 shape=(len(token_lists), len(self.terms)))
        rows.sum_duplicates()
        return rows


MAX_SEGMENTS = 8
MAX_DEAD_SHARE = REWRITE_SHARE


class Bm25Index:
    """Lucene's BM25 (k1 1.5, b 0.75, as bm25s scores it) over rows of term counts.

    The counts live in segments, as in Lucene: an update adds one small segment for its new rows
    and drops removed rows from `row_docs` (which maps each snapshot row to its document), so it
    touches only what changed. Document frequencies and lengths are kept for the live documents,
    so scores are exact. Past MAX_SEGMENTS, the segments after the first are stacked into one;
    once removed documents pass MAX_DEAD_SHARE, all are merged and those dropped for good."""

    def __init__(self, vocab: Vocabulary, segments: list[sparse.csc_matrix], row_docs: np.ndarray,
                 doc_freq: np.ndarray, total_length: float, lengths: np.ndarray | None = None):
        self.vocab = vocab
        self.segments = segments  # column-major: a question term's postings are one slice
        self.offsets = np.cumsum([0] + [s.shape[0] for s in segments])
        if lengths is None:
            lengths = np.concatenate([_lengths(s) for s in segments] or [np.zeros(0)])
        self.lengths = lengths.astype(np.float32, copy=False)
        self.row_docs = row_docs
        self.doc_freq = doc_freq
        self.total_length = total_length
        self.num_docs = len(row_docs)
        self.columns = len(doc_freq)
        self.average = total_length / self.num_docs if self.num_docs and total_length else 1.0
        self.max_idf = float(np.log1p((max(self.num_docs, 1) - 1 + 0.5) / 1.5))

    @classmethod
    def from_counts(cls, vocab: Vocabulary, counts: sparse.spmatrix) -> "Bm25Index":
        counts = sparse.csc_matrix(_widen(counts, len(vocab)), dtype=np.float32)
        return cls(vocab, [counts] if counts.shape[0] else [], np.arange(counts.shape[0]),
                   np.diff(counts.indptr).astype(np.float64), float(counts.sum()))

    def derive(self, keep: np.ndarray, added: sparse.spmatrix,
               removed: sparse.spmatrix | None = None) -> "Bm25Index":
        """The rows `keep` (indices, in order) followed by the `added` rows of counts.
        `removed`: the counts of the rows left out (for the live frequencies)."""
        width = len(self.vocab)
        added = sparse.csc_matrix(_widen(added, width), dtype=np.float32)
        doc_freq = np.zeros(width)
        doc_freq[: self.columns] = self.doc_freq
        doc_freq += np.diff(added.indptr)
        total = self.total_length + float(added.sum())
        if removed is not None and removed.shape[0]:
            removed = sparse.csc_matrix(_widen(removed, width))
            doc_freq -= np.diff(removed.indptr)
            total -= float(removed.sum())
        start = int(self.offsets[-1])
        row_docs = np.concatenate([self.row_docs[keep], np.arange(start, start + added.shape[0])])
        segments = self.segments + ([added] if added.shape[0] else [])
        derived = Bm25Index(self.vocab, segments, row_docs, np.maximum(doc_freq, 0), total,
                            np.concatenate([self.lengths, _lengths(added)]))
        dead = int(derived.offsets[-1]) - derived.num_docs
        if dead > MAX_DEAD_SHARE * max(derived.num_docs, 1):
            derived = derived.merged()
        elif len(segments) > MAX_SEGMENTS:
            derived = derived.tail_merged()
        return derived

    def tail_merged(self) -> "Bm25Index":
        """The segments after the first stacked into one, documents and their numbers as they
        were (removed ones stay until `merged`): an update of a million-article index stacks
        its few small segments instead of rebuilding the first, which holds the archive (2.5 s
        at a million)."""
        width = max(s.shape[1] for s in self.segments)
        tail = sparse.vstack([_widen(s, width) for s in self.segments[1:]], format="csc",
                             dtype=np.float32)
        return Bm25Index(self.vocab, self.segments[:1] + [tail], self.row_docs, self.doc_freq,
                         self.total_length, self.lengths)

    def merged(self) -> "Bm25Index":
        """One segment of the live rows, in row order."""
        return Bm25Index.from_counts(self.vocab, self.rows(0))

    def rows(self, start: int = 0) -> sparse.csr_matrix:
        """Counts of rows from `start` on (what a snapshot's delta adds), as wide as the
        vocabulary."""
        width = len(self.vocab)
        docs = self.row_docs[start:]
        if docs.size == 0:
            return sparse.csr_matrix((0, width), dtype=np.float32)
        parts = []
        segment_of = np.searchsorted(self.offsets, docs, side="right") - 1
        for number in np.unique(segment_of):  # rows of one segment at a time, then reordered
            mine = np.flatnonzero(segment_of == number)
            local = docs[mine] - self.offsets[number]
            parts.append((mine, _widen(sparse.csr_matrix(self.segments[number][local]), width)))
        stacked = sparse.vstack([p for _, p in parts], format="csr")
        order = np.argsort(np.concatenate([m for m, _ in parts]), kind="stable")
        return stacked[order]

    def _columns(self, query_tokens: list[str]) -> list[int]:
        found = (self.vocab.index.get(t) for t in query_tokens)
        return [c for c in found if c is not None and c < self.columns]

    def _idf_of(self, columns) -> np.ndarray:
        # Smoothed IDF, also used for query-term coverage. A term no document has counts as rare
        # as one that a single document has: rare, yet not so heavy that in a small collection
        # one unknown word outweighs all the words that match.
        doc_freq = self.doc_freq[columns]
        return np.log1p((max(self.num_docs, 1) - doc_freq + 0.5) / (doc_freq + 0.5))

    def scores(self, query_tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        columns = self._columns(query_tokens)
        if not columns or not self.num_docs:
            return np.zeros(self.num_docs, dtype=np.float32)
        by_doc = np.zeros(int(self.offsets[-1]), dtype=np.float32)
        weights = self._idf_of(columns)
        for offset, segment in zip(self.offsets, self.segments):
            indptr, indices, data = segment.indptr, segment.indices, segment.data
            for column, weight in zip(columns, weights):  # repeated terms count again, as in bm25s
                if column >= segment.shape[1]:
                    continue
                start, end = indptr[column], indptr[column + 1]
                if start == end:
                    continue
                docs, tf = indices[start:end] + offset, data[start:end]
                norm = K1 * ((1 - B) + B * self.lengths[docs] / self.average)
                by_doc[docs] += weight * tf / (tf + norm)
        scores = by_doc[self.row_docs]
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return scores

    def idf(self, tokens: list[str]) -> list[float]:
        index, columns = self.vocab.index, self.columns
        return [float(self._idf_of([index[t]])[0]) if index.get(t, columns) < columns
                else self.max_idf for t in tokens]


def _lengths(counts: sparse.spmatrix) -> np.ndarray:
    return np.asarray(counts.sum(axis=1), dtype=np.float32).ravel()


def _widen(counts: sparse.spmatrix, width: int) -> sparse.spmatrix:
    """The same rows with columns for terms added since (all zero)."""
    if counts.shape[1] == width:
        return counts
    if counts.format == "csc":  # new columns are empty: only the column pointers grow
        indptr = np.concatenate([counts.indptr, np.full(width - counts.shape[1], counts.indptr[-1],
                                                        dtype=counts.indptr.dtype)])
        return sparse.csc_matrix((counts.data, counts.indices, indptr), shape=(counts.shape[0], width))
    counts = sparse.csr_matrix(counts)
    return sparse.csr_matrix((counts.data, counts.indices, counts.indptr),
                             shape=(counts.shape[0], width))
