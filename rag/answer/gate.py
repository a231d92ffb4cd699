"""The relevance gate's signals and its model: does the article the answer would cite speak to
the question's subject, and does it hold what the question asks for?

Signals, from the retrieved passages (the best article's, where a signal is about the article):
- `dense`: the best passage's cosine to the question (meaning);
- `coverage`: the IDF-weighted share of the question's own words in that passage (words of
  asking such as "who", "what", "did" left out);
- `key_coverage`: the share of the question's names and numbers found in the best article's
  retrieved passages ("Tesla" asked, an article about Xiaomi found, is a miss);
- `staleness`: how long before the window a question names ("this week", "in March 2024") the
  article was published: an archive whose best match is two years old has no news of this week;
- `answer_sentence`: the score of the sentence the extractive answer would lead with
  (extractive.score_sentences: its meaning against the question, the question's words in it,
  an answer of the asked type in it): whether one sentence speaks to the question's focus, where
  the passage-level signals see a passage on the right subject. Its scale follows the sentence
  weights in extractive.py, so changing those means training the gate again.

Left out: the best article's age for every question. On news QA dev it is the strongest signal
of all (refusals 0.95 at 5% false refusals), because the unanswerable questions there were asked
years after the archive ends; but it refuses any question about an older story in a mixed
archive (a 2022 article asked about with 2025 articles beside it), which no user wants. Only a
question that names its time pays for an old match.

Tried as signals and left out, for separating nothing the others did not on news QA dev: whether
a sentence holds an answer of the asked type (the best articles of unanswerable questions are
full of names and numbers too; the type steers which sentence answers instead, extractive.py),
and whether a name the question is about is missing from the best passage (38% of SciFact's
answerable claims name something their passage does not).

A logistic regression combines them (`gate.json`: its coefficients, trained by
`benchmarks/train_gate.py`); its probability that the question is answered is the refusal signal.
No term depends on the size of the collection."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from rag.answer import weights
from rag.answer.extractive import score_sentences
from rag.answer.question_dates import DAY
from rag.answer.question_type import QUESTION_WORDS, read_focus
from rag.answer.retrieval import Passage, Retrieval
from rag.index.lexical import coverage, tokenize
from rag.index.snapshot import Snapshot
from rag.errors import ConfigError
from rag.ingest.chunking import embed_text

FEATURES = ("dense", "coverage", "key_coverage", "staleness", "answer_sentence")
MODEL_FILE = Path(__file__).with_name("gate.json")


def _cosine(p: Passage, retrieval: Retrieval, snapshot: Snapshot) -> float:
    # The dense stage's own score when it ran; the same cosine computed here when the
    # configured stages leave it out, so that the decision never depends on the stage list.
    if "dense" in p.signals:
        return p.signals["dense"]
    return float(snapshot.vectors[p.row].astype(np.float32) @ retrieval.query_vector.astype(np.float32))


def _staleness_days(retrieval: Retrieval, published: float) -> float:
    time = retrieval.time
    # A window open at its start ("before May 2023") asks for nothing recent; one that only
    # weighs (nothing in it answered) says when something happens, not when it was reported.
    if (time is None or math.isnan(published) or time.window is None or time.window.start is None
            or time.window_as_weight):
        return 0.0
    return max(0.0, (time.window.start - published) / DAY)


def features(retrieval: Retrieval, snapshot: Snapshot,
             embed: Callable[[list[str]], np.ndarray]) -> dict[str, float]:
    """The gate's signals for one retrieval (all zero when nothing was retrieved). `embed` gives
    the cheap sentence vectors the extractive answer ranks sentences with."""
    if not retrieval.passages:
        return dict.fromkeys(FEATURES, 0.0)
    focus = read_focus(retrieval.query)
    terms = [t for t in retrieval.query_tokens if t not in QUESTION_WORDS] or retrieval.query_tokens
    idf = snapshot.bm25.idf(terms)
    best = retrieval.passages[0]
    article = [p for p in retrieval.passages if p.article_id == best.article_id]
    article_tokens = set(tokenize(" ".join([best.title] + [p.text for p in article])))
    keys = focus.key_terms
    found = sum(1 for k in keys if k in article_tokens)
    cover = max(coverage(terms, set(tokenize(embed_text(p.title, p.published, p.text))), idf)
                for p in retrieval.passages)
    published = snapshot.published_ts[best.row]
    return {
        "dense": max(_cosine(p, retrieval, snapshot) for p in retrieval.passages),
        "coverage": cover,
        "key_coverage": found / len(keys) if keys else 1.0,
        "staleness": math.log1p(_staleness_days(retrieval, published)),
        "answer_sentence": _answer_sentence(retrieval, embed),
    }


def _answer_sentence(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray]) -> float:
    scored = score_sentences(retrieval, embed)
    return scored[0].score if scored else 0.0


@dataclass(frozen=True)
class GateModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # refuse below this probability
    retrieval: dict = field(default_factory=dict)  # the retrieval settings it was trained under

    def probability(self, signals: dict[str, float]) -> float:
        x = (np.array([signals[f] for f in FEATURES]) - np.array(self.mean)) / np.array(self.scale)
        return float(1.0 / (1.0 + math.exp(-(float(x @ np.array(self.coef)) + self.intercept))))


# The retrieval settings the gate's signals depend on (recorded in gate.json when it is trained).
RETRIEVAL_SETTINGS = ("chunk_size", "chunk_overlap", "top_k", "ranking_stages", "candidates",
                      "dense_weight", "article_weight", "recency_weight", "recency_half_life_days",
                      "recency_latest_boost", "question_dates", "fold_copies")


def trained_with(settings) -> dict:
    """What gate.json records of the weights and settings it was trained under."""
    return {"answer_weights": weights.WEIGHTS.fingerprint(),
            "retrieval": {name: getattr(settings, name) for name in RETRIEVAL_SETTINGS}}


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE, answer_weights: str | None = None) -> GateModel:
    """The trained gate. Its `answer_sentence` signal is the sentence scorer's own score, so a
    gate trained under other sentence or span weights (`answer_weights`, by default the ones in
    use) would read that signal on another scale: refused, with what to do."""
    data = json.loads(path.read_text())
    if tuple(data["features"]) != FEATURES:
        raise ConfigError(f"{path}: trained on {data['features']}, this code computes {FEATURES}; "
                          "retrain it (benchmarks/train_gate.py)")
    expected = answer_weights or weights.WEIGHTS.fingerprint()
    recorded = data.get("trained_with", {}).get("answer_weights")
    if recorded != expected:
        raise ConfigError(f"{path}: trained under answer weights {recorded}, the code's are {expected} "
                          "(rag/answer/weights.py changed); retrain it (benchmarks/train_gate.py)")
    return GateModel(tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]),
                     float(data["intercept"]), float(data["threshold"]),
                     dict(data["trained_with"].get("retrieval", {})))
