"""Tuning harness (development only, never run on the held-out set): retrieves candidates for
every question once from a built index, then scores fusion and refusal variants in memory.

    .venv/bin/python -m benchmarks.tune --index-dir .cache/eval/newsqa-corpus --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag.eval import metrics
from rag.config import Settings
from rag.eval.run import load_questions
from rag.index.lexical import tokenize
from rag.service import RagService


def candidates(service: RagService, questions, depth: int = 100):
    snapshot = service.refresh(force=True)
    collection = service.store.collection(snapshot.collection_name)
    out = []
    vectors = service.embedder.embed([q.question for q in questions])
    for q, qv in zip(questions, vectors):
        tokens = tokenize(q.question)
        dense_rows = [r for r in map(snapshot.row_of, collection.nearest(qv, depth)) if r is not None]
        bm25 = snapshot.bm25.scores(tokens)
        bm25_rows = np.argpartition(-bm25, depth)[:depth]
        rows = np.array(sorted(set(dense_rows) | {int(r) for r in bm25_rows if bm25[r] > 0}))
        dense = snapshot.vectors[rows].astype(np.float32) @ qv
        out.append({"q": q, "rows": rows, "dense": dense, "bm25": bm25[rows].astype(np.float32),
                    "tokens": tokens})
    return snapshot, out


def minmax(x):
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def rank_articles(snapshot, c, weight: float, mode: str = "minmax"):
    if mode == "rrf":
        d_rank = np.argsort(np.argsort(-c["dense"]))
        b_rank = np.argsort(np.argsort(-c["bm25"]))
        fused = weight / (60 + d_rank) + (1 - weight) / (60 + b_rank)
    else:
        fused = weight * minmax(c["dense"]) + (1 - weight) * minmax(c["bm25"])
    order = np.argsort(-fused)
    return metrics.dedupe_ranking([snapshot.records[c["rows"][i]]["article_id"] for i in order]), fused


def retrieval_scores(snapshot, cands, weight, mode="minmax"):
    acc = {"hit@1": [], "hit@5": [], "mrr@10": [], "ndcg@10": []}
    for c in cands:
        rel = c["q"].relevant
        if not rel:
            continue
        ranked, _ = rank_articles(snapshot, c, weight, mode)
        acc["hit@1"].append(metrics.hit_at(ranked, rel, 1))
        acc["hit@5"].append(metrics.hit_at(ranked, rel, 5))
        acc["mrr@10"].append(metrics.mrr_at(ranked, rel))
        acc["ndcg@10"].append(metrics.ndcg_at(ranked, rel))
    return {k: round(float(np.mean(v)), 4) for k, v in acc.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    service = RagService(Settings(index_dir=Path(args.index_dir)))
    questions = load_questions(Path(args.questions))
    snapshot, cands = candidates(service, questions)
    for mode in ("minmax", "rrf"):
        for w in (0.0, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 1.0):
            print(mode, w, json.dumps(retrieval_scores(snapshot, cands, w, mode)))
    refusal_sweep(service, questions)


def refusal_sweep(service: RagService, questions) -> None:
    """False refusals (answerable) and refusals (unanswerable) at each relevance threshold, with
    the product's own retrieval and settings."""
    snapshot = service.refresh(force=True)
    policy = service.refusal_policy
    relevance = np.array([service.retrieve(q.question).decision.relevance for q in questions])
    answerable = np.array([q.answerable for q in questions])
    print("chunks", len(snapshot), "current threshold", round(policy.threshold, 3))
    for threshold in np.arange(0.0, 1.0, 0.025):  # the gate's probability
        print(f"threshold {threshold:.2f}: false refusals {(relevance[answerable] < threshold).mean():.3f}, "
              f"refusals {(relevance[~answerable] < threshold).mean() if (~answerable).any() else 0:.3f}")


if __name__ == "__main__":
    main()
