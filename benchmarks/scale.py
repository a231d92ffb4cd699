"""Retrieval latency as the collection grows: 10k, 100k and 1M chunks. Synthetic normalized
vectors in a real embedded Chroma collection (the dense part) and synthetic Zipf-distributed
token lists in bm25s (the lexical part), queried as the product does (top 50 of each, fused).

    .venv/bin/python -m benchmarks.scale --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save, status_mb

DIM = 384
VOCAB = 50_000
DOC_TOKENS = 120
QUERIES = 200


def rss_mb() -> float:
    return round(status_mb("VmRSS"), 1)


def disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def main() -> None:
    import bm25s
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", default=".cache/bench/scale")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(0)
    client = chromadb.PersistentClient(path=str(work / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("scale", embedding_function=None,
                                          configuration={"hnsw": {"space": "cosine"}})
    zipf = 1.0 / np.arange(1, VOCAB + 1)
    zipf /= zipf.sum()
    tokens: list[list[str]] = []
    results = []
    have = 0
    for size in sorted(args.sizes):
        started = time.perf_counter()
        while have < size:
            batch = min(5000, size - have)
            vectors = rng.standard_normal((batch, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            collection.add(ids=[str(i) for i in range(have, have + batch)], embeddings=vectors)
            words = rng.choice(VOCAB, size=(batch, DOC_TOKENS), p=zipf)
            tokens.extend([[f"w{w}" for w in row] for row in words])
            have += batch
        add_s = time.perf_counter() - started
        started = time.perf_counter()
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        bm25_build_s = time.perf_counter() - started
        queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        query_words = rng.choice(VOCAB // 10, size=(QUERIES, 8), p=zipf[: VOCAB // 10] / zipf[: VOCAB // 10].sum())
        dense_ms, lexical_ms, total_ms = [], [], []
        for q, words in zip(queries, query_words):
            t0 = time.perf_counter()
            found = collection.query(query_embeddings=[q.tolist()], n_results=50, include=["distances"])
            t1 = time.perf_counter()
            ids = bm25.get_tokens_ids([f"w{w}" for w in words])
            scores = bm25.get_scores_from_ids(ids)
            top = np.argpartition(-scores, 50)[:50]
            t2 = time.perf_counter()
            union = set(map(int, found["ids"][0])) | set(map(int, top))
            _ = sorted(union)  # fusion itself is a few microseconds over 100 candidates
            t3 = time.perf_counter()
            dense_ms.append((t1 - t0) * 1000)
            lexical_ms.append((t2 - t1) * 1000)
            total_ms.append((t3 - t0) * 1000)
        pct = lambda v: {"p50": round(float(np.percentile(v, 50)), 2), "p95": round(float(np.percentile(v, 95)), 2)}
        results.append({"chunks": size, "dense_ms": pct(dense_ms), "bm25_ms": pct(lexical_ms),
                        "retrieval_ms": pct(total_ms), "add_s": round(add_s, 1),
                        "bm25_build_s": round(bm25_build_s, 1), "rss_mb": rss_mb(),
                        "chroma_disk_mb": disk_mb(work / "chroma")})
        print(results[-1], flush=True)
    save("scale", {"dim": DIM, "queries": QUERIES, "results": results})


if __name__ == "__main__":
    main()
