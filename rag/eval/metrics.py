"""Evaluation metrics: article-level ranking quality and answer correctness."""

from __future__ import annotations

import math
import re
import string

import numpy as np

from rag.lexicon import CARDINALS, MARKER

_NUMBER_WORDS = {w: str(i) for i, w in enumerate(CARDINALS)}
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f](?=\d{3}\b)")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’–—…]")
_ARTICLES = {"a", "an", "the"}


def hit_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return float(any(doc in relevant for doc in ranked[:k]))


def mrr_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG: each relevant article counts once, at its best rank."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def recall_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def dedupe_ranking(ranked: list[str]) -> list[str]:
    """Chunks mapped to their articles, each article kept at its best rank."""
    seen, out = set(), []
    for doc in ranked:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def normalize(text: str) -> str:
    """Lower case, thousands separators and punctuation out, number words as digits, articles out."""
    text = _THOUSANDS.sub("", text.lower())
    text = _PUNCT.sub(" ", text)
    words = [_NUMBER_WORDS.get(w, w) for w in text.split() if w not in _ARTICLES]
    return " ".join(words)


def contains_answer(text: str, answers: list[str]) -> bool:
    haystack = f" {normalize(text)} "
    return any(f" {normalize(a)} " in haystack for a in answers if normalize(a))


_MARKER = re.compile(rf"\s*{MARKER}")
ANSWER_WORDS_SCORED = 50  # accuracy counts the gold answer only this far into an answer


def answer_words(text: str) -> list[str]:
    """The words of an answer as a reader counts them: citation markers are not words."""
    return _MARKER.sub("", text).split()


def first_words(text: str, count: int = ANSWER_WORDS_SCORED) -> str:
    return " ".join(answer_words(text)[:count])


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, punctuation deleted ("400,000" is one token),
    articles out, spaces collapsed."""
    text = _PUNCT.sub("", text.lower())
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def span_em(span: str, answers: list[str]) -> float:
    return float(any(squad_normalize(span) == squad_normalize(a) for a in answers if a.strip()))


def span_f1(span: str, answers: list[str]) -> float:
    """SQuAD token F1 of the marked span against the best of the gold answers."""
    predicted = squad_normalize(span).split()
    best = 0.0
    for answer in answers:
        gold = squad_normalize(answer).split()
        if not predicted or not gold:
            continue
        common = sum(min(predicted.count(w), gold.count(w)) for w in set(predicted))
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def refusal_curve(answerable: list[float], unanswerable: list[float], steps: int = 41) -> list[dict]:
    """Refusals of unanswerable questions against false refusals of answerable ones, at each
    threshold of the refusal signal (a question is refused below the threshold)."""
    values = np.array(answerable + unanswerable, dtype=float)
    if values.size == 0:
        return []
    low, high = float(values.min()), float(values.max())
    points = []
    for threshold in np.linspace(low, high + 1e-9, steps):
        points.append({"threshold": round(float(threshold), 4),
                       "refusal_rate": round(float(np.mean(np.array(unanswerable) < threshold)), 4)
                       if unanswerable else 0.0,
                       "false_refusal_rate": round(float(np.mean(np.array(answerable) < threshold)), 4)
                       if answerable else 0.0})
    return points


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    arr = np.asarray(values, dtype=float)
    return {"p50": round(float(np.percentile(arr, 50)), 1), "p95": round(float(np.percentile(arr, 95)), 1)}
