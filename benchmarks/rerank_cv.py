"""A trained cross-encoder (train/train_reranker.py) as a reranker, measured out of fold on news dev: each answerable question is
retrieved once as the product does (reranking off), the cross-encoder scores its best `--top`
passages, and article-level Hit@1 / MRR@10 are computed for every weight of the grid. The weight
is chosen on four folds of questions (5 folds by question id) and scored on the fifth; the figure
is the mean over the five held folds, beside weight 0 (the shipped order) on the same questions.

    .venv/bin/python -m benchmarks.rerank_cv --corpus ../shared/eval/newsqa/corpus.jsonl.gz \
        --questions ../shared/eval/newsqa/dev.jsonl --index-dir .cache/eval/newsqa-corpus
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save
from rag.answer.retrieval import RetrievalRequest
from rag.config import Settings
from rag.eval import metrics
from rag.eval.run import load_questions
from rag.models import parse_as_of
from train import cross_encoder

GRID = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
FOLDS = 5


def fold_of(question_id: str) -> int:
    return hashlib.sha256(question_id.encode()).digest()[0] % FOLDS


def ranking(passages: list, ce: np.ndarray, weight: float) -> list[str]:
    """Article ids in order once the head's scores take `weight` of the model's verdict."""
    head = len(ce)
    if weight > 0 and head > 1:
        low, high = float(ce.min()), float(ce.max())
        share = (ce - low) / (high - low) if high - low > 1e-9 else np.zeros_like(ce)
        scores = [(p.score + weight * s) / (1 + weight) for p, s in zip(passages[:head], share)]
        order = [passages[i] for i in np.argsort(-np.array(scores), kind="stable")] + passages[head:]
    else:
        order = passages
    return metrics.dedupe_ranking([p.article_id for p in order])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=str(cross_encoder.MODEL_DIR),
                        help="the trained cross-encoder's folder (train/train_reranker.py --out)")
    args = parser.parse_args()
    from rag.service import RagService

    service = RagService(Settings(index_dir=Path(args.index_dir)))
    service.rebuild(Path(args.corpus))
    snapshot = service.refresh()
    collection = service.store.collection(snapshot.collection_name)
    model = cross_encoder.load(args.model)
    rows, ce_seconds = [], []
    for q in [q for q in load_questions(Path(args.questions), args.limit) if q.answerable and q.relevant]:
        vector = service.embedder.embed([q.question])[0]
        found = service.retriever.retrieve(snapshot, collection, RetrievalRequest(
            q.question, vector, 5, None, parse_as_of(q.as_of)))
        passages = sorted((p for hit in found.articles for p in hit.passages), key=lambda p: -p.score)
        started = time.perf_counter()
        ce = model.scores(q.question, [p.text for p in passages[:args.top]])
        ce_seconds.append(time.perf_counter() - started)
        per_weight = {w: ranking(passages, ce, w) for w in GRID}
        rows.append((q.id, {w: (metrics.hit_at(r, q.relevant, 1), metrics.mrr_at(r, q.relevant, 10))
                            for w, r in per_weight.items()}))
    result = {"questions": len(rows), "top": args.top, "grid": GRID,
              "cross_encoder_ms": metrics.percentiles([s * 1000 for s in ce_seconds])}
    for w in GRID:
        result[f"all_w{w:g}"] = {"hit@1": round(np.mean([r[w][0] for _, r in rows]), 3),
                                 "mrr@10": round(np.mean([r[w][1] for _, r in rows]), 3)}
    held_hit, held_mrr, base_hit, base_mrr, chosen = [], [], [], [], []
    for fold in range(FOLDS):
        train = [r for qid, r in rows if fold_of(qid) != fold]
        test = [r for qid, r in rows if fold_of(qid) == fold]
        best = max(GRID, key=lambda w: (np.mean([r[w][1] for r in train]), -w))
        chosen.append(best)
        held_hit += [r[best][0] for r in test]
        held_mrr += [r[best][1] for r in test]
        base_hit += [r[0.0][0] for r in test]
        base_mrr += [r[0.0][1] for r in test]
    result["out_of_fold"] = {"weights_chosen": chosen, "hit@1": round(np.mean(held_hit), 3),
                             "mrr@10": round(np.mean(held_mrr), 3),
                             "shipped_hit@1": round(np.mean(base_hit), 3),
                             "shipped_mrr@10": round(np.mean(base_mrr), 3)}
    save("rerank-cv-newsqa-dev", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
