"""Choosing how much a sentence loses per place its article stands below the best-ranked one
(`SentenceWeights.article_rank` in rag/answer/weights.py), out of fold (development only, never
on the held-out set).

Every answerable news question that the gate lets through is retrieved once at its own date;
the answer sentence is then picked under each weight of the grid. For each of 5 folds by
question the weight that maximises (top sentence holds the gold answer) + (its article is
relevant) on the other four folds is scored on the fifth. Prints the in-sample curve and the
out-of-fold figures; writes benchmarks/results/tune-article-rank.json.

    .venv/bin/python -m benchmarks.tune_article_rank --index-dir .cache/eval/newsqa-corpus \
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from benchmarks.common import machine, save
from rag.answer import extractive, weights
from rag.config import Settings
from rag.eval import metrics
from rag.eval.run import load_questions
from rag.service import RagService


def with_article_rank(weight: float) -> weights.AnswerWeights:
    return replace(weights.WEIGHTS, sentence=replace(weights.WEIGHTS.sentence, article_rank=weight))


GRID = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def outcomes_per_weight(service: RagService, questions) -> tuple[np.ndarray, np.ndarray]:
    """(questions x grid) arrays: the top sentence holds a gold answer; its article is relevant."""
    gold, relevant = [], []
    quick, encode = service.embedder.quick, service.embedder.embed
    for q in questions:
        retrieved = service.retrieve(q.question, as_of=q.as_of)
        if retrieved.decision.refuse:  # refused: the weight cannot change it
            continue
        retrieval = retrieved.found
        row_gold, row_relevant = [], []
        for weight in GRID:
            weights.WEIGHTS = with_article_rank(weight)
            picks = extractive.pick_sentences(retrieval, quick, 1, q.question, encode)
            top = picks[0] if picks else None
            row_gold.append(bool(top) and metrics.contains_answer(top.sentence, q.answers))
            row_relevant.append(bool(top) and retrieval.passages[top.passage].article_id in q.relevant)
        gold.append(row_gold)
        relevant.append(row_relevant)
    return np.array(gold, dtype=float), np.array(relevant, dtype=float)


def out_of_fold(gold: np.ndarray, relevant: np.ndarray, seeds: int = 5) -> dict:
    runs = []
    for seed in range(seeds):
        chosen, g, r = [], np.zeros(len(gold)), np.zeros(len(gold))
        for train, test in KFold(5, shuffle=True, random_state=seed).split(gold):
            best = int(np.argmax(gold[train].mean(0) + relevant[train].mean(0)))
            chosen.append(GRID[best])
            g[test], r[test] = gold[test, best], relevant[test, best]
        runs.append({"weights": chosen, "top_sentence_gold": round(g.mean(), 4),
                     "article_relevant": round(r.mean(), 4)})
    return {"runs": runs,
            "top_sentence_gold": round(float(np.mean([x["top_sentence_gold"] for x in runs])), 4),
            "article_relevant": round(float(np.mean([x["article_relevant"] for x in runs])), 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    service = RagService(Settings(index_dir=Path(args.index_dir)))
    questions = [q for q in load_questions(Path(args.questions)) if q.answerable and q.answers]
    shipped = weights.WEIGHTS
    try:
        gold, relevant = outcomes_per_weight(service, questions)
    finally:
        weights.WEIGHTS = shipped
    curve = [{"weight": w, "top_sentence_gold": round(float(g), 4), "article_relevant": round(float(r), 4)}
             for w, g, r in zip(GRID, gold.mean(0), relevant.mean(0))]
    for point in curve:
        print(json.dumps(point))
    result = {"machine": machine(), "questions": len(gold), "shipped_weight": shipped.sentence.article_rank,
              "in_sample": curve, "out_of_fold": out_of_fold(gold, relevant)}
    print("out of fold", json.dumps(result["out_of_fold"]))
    save("tune-article-rank", result)


if __name__ == "__main__":
    main()
