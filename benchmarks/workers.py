"""Embedding throughput per core: one process with every core's threads against a pool of worker
processes (rag/index/embed_pool.py), on the same news chunks, in one run.

    .venv/bin/python -m benchmarks.workers --chunks 1000 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

from benchmarks.common import save
from rag.config import Settings
from rag.index import embed_pool
from rag.index.embedding import get_embedder
from rag.index.encoders import cpu_flags
from rag.ingest.chunking import chunk_article
from rag.ingest.cleaning import clean_articles
from rag.ingest.loading import article_from_record


def news_chunks(corpus: Path, count: int) -> list[str]:
    texts: list[str] = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            raw = article_from_record(json.loads(line), f"r{n}", corpus.name)
            if isinstance(raw, str):
                continue
            for article in clean_articles([raw])[0]:
                texts += [c.embed_text for c in chunk_article(article, 200, 40)]
            if len(texts) >= count:
                return texts[:count]
    return texts


def timed(embedder, texts: list[str], batch: int = 256) -> float:
    embedder.embed(texts[:batch])  # warm-up: workers load their model
    started = time.perf_counter()
    for start in range(0, len(texts), batch):  # as the rebuild calls it
        embedder.embed(texts[start:start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path("../shared/eval/newsqa/corpus.jsonl.gz"))
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    texts = news_chunks(args.corpus, args.chunks)
    settings = Settings(_env_file=None)
    local = get_embedder(settings)
    cores = os.cpu_count() or 1
    single = timed(local, texts)
    pool = embed_pool.EmbedderPool(settings, local, args.workers)
    try:
        pooled = timed(pool, texts)
    finally:
        pool.close()
    save("workers", {
        "cpu_flags": sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_bf16"}),
        "engine": getattr(local, "backend", type(local).__name__), "chunks": len(texts),
        "one_process": {"threads": cores, "chunks_per_s": round(single, 1),
                        "per_core": round(single / cores, 1)},
        "pool": {"workers": args.workers, "threads_each": max(1, cores // args.workers),
                 "chunks_per_s": round(pooled, 1), "per_core": round(pooled / cores, 1)},
        "pool_over_one_process": round(pooled / single, 2)})


if __name__ == "__main__":
    main()
