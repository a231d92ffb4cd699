"""BM25 over chunk texts (bm25s), with the tokenizer shared by retrieval and answer scoring."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import and logs every index build.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


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


class Bm25Index:
    def __init__(self, retriever):
        self._retriever = retriever
        indptr = np.asarray(retriever.scores["indptr"])
        n_docs = max(int(retriever.scores["num_docs"]), 1)
        doc_freq = np.diff(indptr).astype(np.float64)
        # Smoothed IDF per vocabulary id, for query-term coverage. A term no article has counts
        # as rare as one that a single article has: rare, yet not so heavy that in a small
        # collection one unknown word outweighs all the words that match.
        self._idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
        self.max_idf = float(np.log1p((n_docs - 1 + 0.5) / 1.5))
        self.num_docs = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> "Bm25Index":
        retriever = _bm25s().BM25()
        # bm25s fails on an empty token list and on no documents at all: a placeholder token
        # matches no query (and an empty snapshot's retrieval stops before scoring).
        safe = [tokens or ["\x00"] for tokens in token_lists] or [["\x00"]]
        retriever.index(safe, show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        return cls(_bm25s().BM25.load(str(folder), mmap=False, show_progress=False))

    def scores(self, query_tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        ids = self._retriever.get_tokens_ids(query_tokens)
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        scores = self._retriever.get_scores_from_ids(ids)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return scores

    def idf(self, tokens: list[str]) -> list[float]:
        vocab = self._retriever.vocab_dict
        return [float(self._idf[vocab[t]]) if t in vocab else self.max_idf for t in tokens]
