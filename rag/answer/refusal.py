"""The refusal decision, in one place: does what was retrieved answer the question at all?

The signal is the best top passage's relevance: meaning (dense cosine) and wording (IDF-weighted
share of the question's terms in the passage) together. Either alone is fooled: questions on the
same topic embed close without being answered, and common words match anywhere. The threshold
grows with the collection, since the best chance match of an unrelated question does."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rag.answer.retrieval import Passage, Retrieval
from rag.config import Settings
from rag.index.lexical import coverage, tokenize
from rag.index.snapshot import Snapshot
from rag.ingest.chunking import embed_text


@dataclass
class RefusalDecision:
    refuse: bool
    relevance: float
    threshold: float


def relevance(dense: float, cover: float) -> float:
    return 0.5 * dense + 0.5 * cover


class RefusalPolicy:
    def __init__(self, settings: Settings):
        self.min_relevance = settings.min_relevance
        self.per_decade = settings.relevance_per_decade

    def threshold(self, snapshot: Snapshot) -> float:
        return self.min_relevance + self.per_decade * math.log10(max(len(snapshot), 1))

    def relevance(self, retrieval: Retrieval, snapshot: Snapshot) -> float:
        idf = snapshot.bm25.idf(retrieval.query_tokens)
        best = 0.0
        for p in retrieval.passages:
            passage_tokens = set(tokenize(embed_text(p.title, p.published, p.text)))
            best = max(best, relevance(self._cosine(p, retrieval, snapshot),
                                       coverage(retrieval.query_tokens, passage_tokens, idf)))
        return best

    @staticmethod
    def _cosine(p: Passage, retrieval: Retrieval, snapshot: Snapshot) -> float:
        # The dense stage's own score when it ran; the same cosine computed here when the
        # configured stages leave it out, so that the decision never depends on the stage list.
        if "dense" in p.signals:
            return p.signals["dense"]
        return float(snapshot.vectors[p.row].astype(np.float32) @ retrieval.query_vector.astype(np.float32))

    def decide(self, retrieval: Retrieval, snapshot: Snapshot) -> RefusalDecision:
        """The one entry point: refuse when nothing was found or the best is not relevant enough."""
        threshold = self.threshold(snapshot)
        if not retrieval.passages:
            return RefusalDecision(True, 0.0, threshold)
        score = self.relevance(retrieval, snapshot)
        return RefusalDecision(score < threshold, score, threshold)
