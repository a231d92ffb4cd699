"""BM25 over chunk texts and whole articles, with the tokenizer shared by retrieval and answer
scoring.

The index keeps each document's term counts, not precomputed weights: a weight depends on the
collection's size and average length, so precomputed weights (as bm25s keeps them) must all be
recomputed when one article arrives. Counts are computed once per document and carried from one
snapshot to the next; the weights are computed at question time over the question's few terms."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

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


def tokenize_many(texts: list[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]


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


class Bm25Index:
    """Lucene's BM25 (k1 1.5, b 0.75, as bm25s scores it) over rows of term counts."""

    def __init__(self, vocab: Vocabulary, counts: sparse.spmatrix):
        self.vocab = vocab
        # Column-major: a question term's postings are one slice.
        self.counts = sparse.csc_matrix(counts, dtype=np.float32)
        self.num_docs, self.columns = self.counts.shape
        lengths = np.asarray(self.counts.sum(axis=1), dtype=np.float32).ravel()
        average = float(lengths.mean()) if self.num_docs and lengths.sum() else 1.0
        self._norm = K1 * ((1 - B) + B * lengths / average)
        doc_freq = np.diff(self.counts.indptr).astype(np.float64)
        n_docs = max(self.num_docs, 1)
        # Smoothed IDF per column, also used for query-term coverage. A term no document has
        # counts as rare as one that a single document has: rare, yet not so heavy that in a
        # small collection one unknown word outweighs all the words that match.
        self._idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
        self.max_idf = float(np.log1p((n_docs - 1 + 0.5) / 1.5))

    @classmethod
    def build(cls, token_lists: list[list[str]], vocab: Vocabulary | None = None) -> "Bm25Index":
        vocab = vocab if vocab is not None else Vocabulary()
        return cls(vocab, vocab.counts(token_lists))

    def derive(self, keep: np.ndarray, added: sparse.spmatrix) -> "Bm25Index":
        """The rows `keep` (indices, in order) followed by the `added` rows of counts."""
        width = len(self.vocab)
        kept = self.counts[keep] if len(keep) < self.num_docs else self.counts
        kept = _widen(kept, width)
        return Bm25Index(self.vocab, sparse.vstack([kept, _widen(added, width)], format="csc"))

    def rows(self, start: int = 0) -> sparse.csr_matrix:
        """Counts of rows from `start` on (what a snapshot's delta adds)."""
        return sparse.csr_matrix(self.counts[start:])

    def save(self, path: Path, start: int = 0) -> None:
        sparse.save_npz(path, self.rows(start))

    @staticmethod
    def load_rows(path: Path) -> sparse.csr_matrix:
        return sparse.load_npz(path).tocsr()

    def _columns(self, query_tokens: list[str]) -> list[int]:
        found = (self.vocab.index.get(t) for t in query_tokens)
        return [c for c in found if c is not None and c < self.columns]

    def scores(self, query_tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        scores = np.zeros(self.num_docs, dtype=np.float32)
        indptr, indices, data = self.counts.indptr, self.counts.indices, self.counts.data
        for column in self._columns(query_tokens):  # repeated terms count again, as in bm25s
            start, end = indptr[column], indptr[column + 1]
            if start == end:
                continue
            rows, tf = indices[start:end], data[start:end]
            scores[rows] += self._idf[column] * tf / (tf + self._norm[rows])
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return scores

    def idf(self, tokens: list[str]) -> list[float]:
        index, columns = self.vocab.index, self.columns
        return [float(self._idf[index[t]]) if index.get(t, columns) < columns else self.max_idf
                for t in tokens]


def _widen(counts: sparse.spmatrix, width: int) -> sparse.spmatrix:
    """The same rows with columns for terms added since (all zero)."""
    if counts.shape[1] == width:
        return counts
    counts = sparse.csr_matrix(counts)
    return sparse.csr_matrix((counts.data, counts.indices, counts.indptr),
                             shape=(counts.shape[0], width))
