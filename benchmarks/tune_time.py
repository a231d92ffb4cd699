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
    collection = service.store.collection(snapshot.collection_name)
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
    parser.add_argument("--grid", default='{"recency_weight": [0.3, 0.5, 0.8], '
                        '"recency_half_life_days": [7, 14, 30], "recency_latest_boost": [1, 2]}',
                        help="settings to vary, as JSON: name -> list of values")
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    base = Settings(index_dir=Path(args.index_dir))
    service = RagService(base)
    questions = load_questions(Path(args.questions))
    vectors = service.embedder.embed([q.question for q in questions])
    today = base.model_copy(update={"ranking_stages": ["dense", "bm25", "article_bm25"],
                                    "question_dates": False, "fold_copies": False})
    print("today's pipeline, no as-of time", json.dumps(score_variant(service, questions, vectors, today, False)))
    print("as-of cut only", json.dumps(score_variant(service, questions, vectors, today, True)))
    folded = today.model_copy(update={"fold_copies": True})
    print("copies folded only", json.dumps(score_variant(service, questions, vectors, folded, False)))
    grid = json.loads(args.grid)
    for values in itertools.product(*grid.values()):
        update = dict(zip(grid, values))
        figures = score_variant(service, questions, vectors, base.model_copy(update=update), True)
        print(json.dumps(update), json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
