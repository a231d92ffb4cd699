"""How much of the answer model (train/answer_model.py) the extractive answer should take,
chosen out of fold on news dev (the model itself never saw news dev; only this weight is fitted
here). Each question is retrieved once at its own date as the product does; then, for every
point of the grid, the sentence weights are replaced (the model's weight, and a factor on the
hand-set signals) and the answer is composed again. The point is chosen on four folds of
questions (5 folds by question id, by accuracy, then citation precision) and scored on the fifth;
the figures are over the five held folds, beside the shipped weights and the lead-50 baseline on
the same questions. It also measures reordering the articles by their best sentence's model
score (a ranking stage), out of fold the same way.

    .venv/bin/python -m benchmarks.answer_model_cv --index-dir .cache/eval/newsqa-corpus \\
        --questions ../shared/eval/newsqa/dev.jsonl [--model .cache/train/answer-model]

The model is not a product stage; the sentence scorer is wrapped here (each sentence's hand-set
score plus the weight times the model's logit of the sentence with its article's title).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save
from rag.answer import extractive, weights
from rag.config import Settings
from rag.eval import metrics
from rag.eval.run import load_questions
from rag.eval.scoring import Outcome, answer_scores
from rag.models import Final
from rag.service import RagService
from train import answer_model

MODEL_GRID = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8]
HAND_GRID = [1.0, 0.5, 0.0]  # a factor on the hand-set signals (meaning, words, passage, type, lead)
ARTICLE_GRID = [0.0, 0.05, 0.1, 0.2, 0.4]
FOLDS = 5


def fold_of(question_id: str) -> int:
    return hashlib.sha256(question_id.encode()).digest()[0] % FOLDS


def sentence_weights(hand: float) -> weights.AnswerWeights:
    w = weights.WEIGHTS.sentence
    scaled = dataclasses.replace(
        w, meaning=w.meaning * hand, words=w.words * hand, passage=w.passage * hand,
        answer_type=w.answer_type * hand, lead=w.lead * hand, kind_fit=w.kind_fit * hand)
    return dataclasses.replace(weights.WEIGHTS, sentence=scaled)


HAND_SCORES = extractive.score_sentences


def with_model(scorers: dict, weight: float):
    """extractive.score_sentences with `weight` times the model's logit added to each sentence
    (`scorers`: the model's memoised scores, by the searched query)."""
    def score_sentences(retrieval, embed, focus=None, known=None):
        picks = HAND_SCORES(retrieval, embed, focus, known)
        if weight and picks:
            logits = scorers[retrieval.query](
                [(retrieval.passages[p.passage].title, p.sentence) for p in picks])
            for pick, logit in zip(picks, logits):
                pick.score += weight * float(logit)
            picks.sort(key=lambda p: -p.score)
        return picks
    return score_sentences


def outcome(service: RagService, q, retrieved, lead: str) -> Outcome:
    final = None
    for event in service.answer_events(retrieved, time.perf_counter()):
        if isinstance(event, Final):
            final = event.answer
    ranking = metrics.dedupe_ranking([hit.article_id for hit in retrieved.found.articles])
    span = final.answer_span
    return Outcome(question=q, ranking=ranking, answer_text=final.answer, refused=final.refused,
                   cited=[(c.article_id, c.quote) for c in final.citations], retrieval_ms=0,
                   answer_ms=0, lead=lead, span=final.answer[span.start:span.end] if span else "")


def article_order(retrieved, scores_of, weight: float) -> list[str]:
    """Articles reordered by retrieval score plus `weight` times their best sentence's model
    score (over the sentences of their retrieved passages)."""
    found = retrieved.found
    pool = extractive.candidates(found)
    scores = scores_of([(found.passages[index].title, sentence) for index, _, sentence in pool])
    best: dict[str, float] = {}
    for (index, _, _), s in zip(pool, scores):
        article = found.passages[index].article_id
        best[article] = max(best.get(article, -1e9), float(s))
    floor = min(best.values(), default=0.0)
    ranked = sorted(found.articles, key=lambda a: -(a.score + weight * best.get(a.article_id, floor)))
    return metrics.dedupe_ranking([a.article_id for a in ranked])


def out_of_fold(per_point: dict, ids: list[str], key) -> tuple[list, list[int]]:
    """For each fold, the grid point best on the other folds (by `key` of its scores there);
    returns the points chosen and, per question, the index into ids of the point used."""
    chosen, use = [], {}
    for fold in range(FOLDS):
        train = [i for i, qid in enumerate(ids) if fold_of(qid) != fold]
        best = max(per_point, key=lambda p: key(per_point[p], train))
        chosen.append(best)
        use.update({i: best for i, qid in enumerate(ids) if fold_of(qid) == fold})
    return chosen, [use[i] for i in range(len(ids))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--name", default="answer-model-cv-newsqa-dev")
    parser.add_argument("--model", default=str(answer_model.MODEL_DIR))
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    from rag.eval.run import _lead

    service = RagService(Settings(index_dir=Path(args.index_dir), _env_file=None), llm=None)
    snapshot = service.refresh()
    questions = load_questions(Path(args.questions), args.limit)
    retrieved = [service.retrieve(q.question, as_of=q.as_of) for q in questions]
    model = answer_model.load(args.model)
    scorers = {r.found.query: answer_model.for_question(model, r.found.query) for r in retrieved}
    leads = [_lead(snapshot, r.found.articles[0].article_id if r.found.articles else None)
             for r in retrieved]
    shipped = weights.WEIGHTS
    per_point: dict[tuple[float, float], list[Outcome]] = {}
    try:
        for hand in HAND_GRID:
            for weight in MODEL_GRID:
                if weight == 0.0 and hand == 0.0:
                    continue
                weights.WEIGHTS = sentence_weights(hand)
                extractive.score_sentences = with_model(scorers, weight)
                per_point[(weight, hand)] = [outcome(service, q, r, lead)
                                             for q, r, lead in zip(questions, retrieved, leads)]
    finally:
        weights.WEIGHTS = shipped
        extractive.score_sentences = HAND_SCORES
    ids = [q.id for q in questions]

    def figures(outcomes: list[Outcome]) -> dict:
        scores = answer_scores(outcomes)
        return {k: scores.get(k) for k in ("accuracy", "lead50_accuracy", "citation_precision",
                                           "false_refusal_rate")}

    def accuracy_key(outcomes: list[Outcome], subset: list[int]) -> tuple:
        s = figures([outcomes[i] for i in subset])
        return (s["accuracy"] or 0.0, s["citation_precision"] or 0.0)

    result: dict = {"questions": len(questions), "model": args.model,
                    "model_metrics": json.loads((Path(args.model) / "metrics.json").read_text()),
                    "grid": {"model": MODEL_GRID, "hand": HAND_GRID},
                    "points": {f"model={m:g} hand={h:g}": figures(o) for (m, h), o in per_point.items()}}
    chosen, use = out_of_fold(per_point, ids, accuracy_key)
    held = [per_point[p][i] for i, p in enumerate(use)]
    result["out_of_fold"] = {"chosen": [f"model={m:g} hand={h:g}" for m, h in chosen],
                             **figures(held), "shipped": figures(per_point[(0.0, 1.0)])}
    ranked = [i for i, q in enumerate(questions) if q.relevant]
    orders = {w: [article_order(retrieved[i], scorers[retrieved[i].found.query], w) for i in ranked]
              for w in ARTICLE_GRID}

    def ranking_key(rows: list, subset: list[int]) -> tuple:
        return (np.mean([metrics.mrr_at(rows[i], questions[ranked[i]].relevant) for i in subset]),)

    chosen_w, use_w = out_of_fold(orders, [ids[i] for i in ranked], ranking_key)

    def ranking_figures(rows: list) -> dict:
        rel = [questions[i].relevant for i in ranked]
        return {"hit@1": round(float(np.mean([metrics.hit_at(r, g, 1) for r, g in zip(rows, rel)])), 4),
                "mrr@10": round(float(np.mean([metrics.mrr_at(r, g, 10) for r, g in zip(rows, rel)])), 4)}

    result["article_rerank"] = {
        "points": {f"{w:g}": ranking_figures(orders[w]) for w in ARTICLE_GRID},
        "out_of_fold": {"chosen": chosen_w, **ranking_figures([orders[w][i] for i, w in enumerate(use_w)])}}
    save(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
