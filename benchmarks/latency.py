"""Query latency on a built index, through the service: retrieval only (embed the question, dense
+ BM25 + fusion) without an as-of time (`retrieval_ms`: no cut, the dense stage asks Chroma) and
asked at each question's own date (`retrieval_as_of_ms`: the as-of cut makes the dense stage
search exactly in memory), reading the question's time alone (dateparser), and a whole
extractive answer; p50/p95 over a question set (each question asked `--repeat` times, after one
warm-up pass).

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
from rag.answer.question_dates import read_question_time
from rag.answer.retrieval import RetrievalRequest
from rag.models import parse_as_of
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
    collection = service.store.collection(snapshot.collection_name)
    loaded = load_questions(Path(args.questions))
    questions = [q.question for q in loaded]
    asked_at = [parse_as_of(q.as_of) for q in loaded]
    for q, when in zip(questions[:20], asked_at):  # warm-up: model, caches, Chroma's HNSW in memory
        service.answer(q)
        service.answer(q, as_of=when)
    timings: dict[str, list[float]] = {"retrieval_ms": [], "retrieval_as_of_ms": [],
                                       "question_time_ms": [], "extractive_answer_ms": []}

    def ms(call) -> tuple[object, float]:
        started = time.perf_counter()
        result = call()
        return result, (time.perf_counter() - started) * 1000

    for _ in range(args.repeat):
        for q, when in zip(questions, asked_at):
            vector, embed_ms = ms(lambda: service.embedder.embed([q])[0])
            _, now_ms = ms(lambda: service.retriever.retrieve(
                snapshot, collection, RetrievalRequest(q, vector, settings.top_k)))
            _, as_of_ms = ms(lambda: service.retriever.retrieve(
                snapshot, collection, RetrievalRequest(q, vector, settings.top_k, None, when)))
            timings["retrieval_ms"].append(embed_ms + now_ms)
            timings["retrieval_as_of_ms"].append(embed_ms + as_of_ms)
            timings["question_time_ms"].append(ms(lambda: read_question_time(q, when))[1])
            timings["extractive_answer_ms"].append(ms(lambda: service.answer(q, as_of=when))[1])
    save(args.name, {"index": {"articles": len(snapshot.articles), "chunks": len(snapshot)},
                     "questions": len(questions), "repeat": args.repeat,
                     **{name: percentiles(values) for name, values in timings.items()},
                     "peak_rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    main()
