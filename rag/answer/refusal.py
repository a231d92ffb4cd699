"""The relevance gate's decision: does what was retrieved answer the question at all? (What
follows it, and every other way a question ends refused, is the answer policy's:
rag/answer/policy.py.)

The signal is the relevance gate's probability that the question is answered (rag/answer/gate.py:
meaning, the question's own words, its names and numbers in the article, whether the article is
from the time the question asks about, and how well its best sentence answers), refused below one
threshold. The threshold is the model's own, chosen when it was trained; it does not grow with
the collection."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rag.answer.gate import features, load_model
from rag.answer.retrieval import Retrieval
from rag.config import Settings
from rag.index.snapshot import Snapshot

log = logging.getLogger(__name__)
Embed = Callable[[list[str]], np.ndarray]


@dataclass
class RefusalDecision:
    refuse: bool
    relevance: float  # the gate's probability that the question is answered
    threshold: float
    signals: dict[str, float]


class RefusalPolicy:
    def __init__(self, settings: Settings):
        self.model = load_model()
        self.threshold = (settings.refusal_threshold if settings.refusal_threshold is not None
                          else self.model.threshold)
        # A deployment may tune retrieval; the gate still works, on signals it was not fitted to.
        changed = {name: (trained, current) for name, trained in self.model.retrieval.items()
                   if (current := getattr(settings, name, trained)) != trained}
        if changed:
            log.warning("the relevance gate was trained under other retrieval settings (%s); "
                        "refusals may be off until it is retrained (benchmarks/train_gate.py)",
                        ", ".join(f"{name} {old} -> {new}" for name, (old, new) in changed.items()))

    def relevance(self, retrieval: Retrieval, snapshot: Snapshot, embed: Embed) -> float:
        return self.model.probability(features(retrieval, snapshot, embed))

    def decide(self, retrieval: Retrieval, snapshot: Snapshot, embed: Embed) -> RefusalDecision:
        """The one entry point: refuse when nothing was found or the gate says it is not covered.
        `embed`: the cheap sentence vectors (LocalEmbedder.quick) the answer sentence is found by."""
        if not retrieval.passages:
            return RefusalDecision(True, 0.0, self.threshold, {})
        signals = features(retrieval, snapshot, embed)
        score = self.model.probability(signals)
        return RefusalDecision(score < self.threshold, score, self.threshold, signals)
