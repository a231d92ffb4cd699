"""Tuning the time stages (development only, never on the held-out set): every question is
embedded once, then retrieved with the product's own Retriever under each variant of the
recency settings, asked at its own date. Prints article-level Hit@1, Hit@5, MRR@10.

    .venv/bin/python -m benchmarks.tune_time --index-dir .cache/eval/newsqa-corpus \
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from rag.answer.retrieval import RetrievalRequest, Retriever
from rag.answer.stages import default_stages
from rag.config import Settings
from rag.eval import metrics
from rag.eval.run import load_questions
from rag.models import parse_as_of
from rag.service import RagService


def score_variant(service: RagService, questions, vectors, settings: Settings, use_dates: bool) -> dict:
    snapshot = service.refresh(force=True)
    collection = service.store.collection(snapshot.name)
    retriever = Retriever(default_stages(settings), settings.candidates, settings.question_dates,
                          settings.fold_copies)
    acc = {"hit@1": [], "hit@5": [], "mrr@10": []}
    for q, v in zip(questions, vectors):
        if not q.relevant:
            continue
        as_of = parse_as_of(q.as_of) if use_dates else None
        found = retriever.retrieve(snapshot, collection, RetrievalRequest(q.question, v, 5, None, as_of))
        ranked = [a.article_id for a in found.articles]
        acc["hit@1"].append(metrics.hit_at(ranked, q.relevant, 1))
        acc["hit@5"].append(metrics.hit_at(ranked, q.relevant, 5))
        acc["mrr@10"].append(metrics.mrr_at(ranked, q.relevant))
    return {k: round(float(np.mean(v)), 4) for k, v in acc.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5, 0.8])
    parser.add_argument("--half-lives", type=float, nargs="+", default=[3, 7, 14, 30])
    parser.add_argument("--boosts", type=float, nargs="+", default=[1, 2])
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    base = Settings(index_dir=Path(args.index_dir))
    service = RagService(base)
    questions = load_questions(Path(args.questions))
    vectors = service.embedder.embed([q.question for q in questions])
    today = base.model_copy(update={"ranking_stages": ["dense", "bm25", "article_bm25"],
                                    "question_dates": False, "fold_copies": False})
    print("today's pipeline, asked now", json.dumps(score_variant(service, questions, vectors, today, False)))
    print("as-of cut only", json.dumps(score_variant(service, questions, vectors, today, True)))
    folded = today.model_copy(update={"fold_copies": True})
    print("copies folded only", json.dumps(score_variant(service, questions, vectors, folded, False)))
    for dates in (False, True):
        for weight, half_life, boost in itertools.product(args.weights, args.half_lives, args.boosts):
            settings = base.model_copy(update={
                "recency_weight": weight, "recency_half_life_days": half_life,
                "recency_latest_boost": boost, "question_dates": dates})
            figures = score_variant(service, questions, vectors, settings, True)
            print(f"dates={dates} weight={weight} half_life={half_life} boost={boost}", json.dumps(figures))


if __name__ == "__main__":
    main()
