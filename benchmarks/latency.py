"""Query latency on a built index, through the service: retrieval only (embed the question, dense
+ BM25 + fusion) and a whole extractive answer, p50/p95 over a question set (each question
asked `--repeat` times, after one warm-up pass).

    .venv/bin/python -m benchmarks.latency --index-dir .cache/eval/newsqa-corpus \
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, save
from rag.config import Settings
from rag.eval.run import load_questions
from rag.eval.metrics import percentiles
from rag.answer.retrieval import RetrievalRequest
from rag.service import RagService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--name", default="latency")
    args = parser.parse_args()
    settings = Settings(index_dir=Path(args.index_dir))
    service = RagService(settings)
    snapshot = service.refresh(force=True)
    collection = service.store.collection(snapshot.name)
    questions = [q.question for q in load_questions(Path(args.questions))]
    for q in questions[:20]:  # warm-up: model, caches, Chroma's HNSW in memory
        service.answer(q)
    retrieval_ms, answer_ms = [], []
    for _ in range(args.repeat):
        for q in questions:
            started = time.perf_counter()
            vector = service.embedder.embed([q])[0]
            service.retriever.retrieve(snapshot, collection, RetrievalRequest(q, vector, settings.top_k))
            retrieval_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            service.answer(q)
            answer_ms.append((time.perf_counter() - started) * 1000)
    save(args.name, {"index": {"articles": len(snapshot.articles), "chunks": len(snapshot)},
                     "questions": len(questions), "repeat": args.repeat,
                     "retrieval_ms": percentiles(retrieval_ms), "extractive_answer_ms": percentiles(answer_ms),
                     "peak_rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    main()
