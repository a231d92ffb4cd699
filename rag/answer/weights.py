"""Every hand-set weight of the answer, in one frozen object. The relevance gate reads the best
sentence's score as one of its signals, so the gate is trained under these weights: gate.json
records their fingerprint, and the gate refuses to load under other weights (retrain it with
benchmarks/train_gate.py). The retrieval weights are settings (rag/config.py), which a
deployment may change; gate.json records those it was trained with, and the service warns
when they differ."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SentenceWeights:
    """How the extractive answer scores a sentence (rag/answer/extractive.py); tuned on news QA
    dev (docs/benchmarks.md)."""

    meaning: float = 0.8  # cosine of the sentence and the question
    words: float = 0.6  # the question's words the sentence covers
    passage: float = 0.6  # the passage's own retrieval score
    answer_type: float = 0.4  # holds an answer of the asked type (a number for "how many")
    lead: float = 0.1  # one of the first `lead_sentences` of its article
    lead_sentences: int = 3
    # Per place its article stands below the best-ranked one, at most `max_rank_steps` places.
    # Chosen out of fold on news QA dev: citation precision 0.81 -> 0.84 at the same accuracy.
    article_rank: float = 0.1
    max_rank_steps: int = 4
    # The best `rerank` sentences again, with how well their marked answer fits the kind asked.
    rerank: int = 6
    kind_fit: float = 0.8
    # A follow-up: the share of the searched (rewritten) query's meaning; the question's own
    # words ("its profit") take the rest, since they say most about what is asked now.
    searched_query_share: float = 0.3


@dataclass(frozen=True)
class SpanWeights:
    """How sure an answer span is of the asked type, and how a name asked by its kind is chosen
    (rag/answer/spans.py)."""

    bare_amount: float = 0.25  # a plain number where an amount of money is asked
    uncounted: float = 0.5  # a number for "how many X" where X does not follow it
    lone_name: float = 0.5  # a one-word name where a person is asked
    kind: float = 1.0  # the candidate's meaning against the kind asked ("which planet")
    near: float = 0.3  # nearness to the question's words ...
    near_falloff_chars: float = 30.0  # ... halved this many characters away


@dataclass(frozen=True)
class AnswerWeights:
    sentence: SentenceWeights = field(default_factory=SentenceWeights)
    span: SpanWeights = field(default_factory=SpanWeights)

    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# Read at each use (`weights.WEIGHTS.sentence.meaning`), so that a tuning script may try others
# with `dataclasses.replace`; the product never changes them.
WEIGHTS = AnswerWeights()
