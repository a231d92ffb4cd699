"""The bundled model in several processes, for large rebuilds on machines with cores to spare.

One process's threads scale poorly past a few cores on batches of 64 short texts; a process per
group of cores, each with its own copy of the (converted) model and its share of the threads,
keeps them all busy. Only the rebuild's bulk embedding goes through the pool, and only for many
chunks: a question's single text stays in the serving process. Workers are started with `spawn`
(no fork of a process that holds model threads) and load the model the settings name."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from rag.config import Settings

log = logging.getLogger(__name__)
# Below this many texts a pool costs more (starting workers, loading the model) than it saves.
MIN_TEXTS = 2000
_worker = None


def _start(settings: dict) -> None:
    global _worker
    from rag.index.embedding import get_embedder

    _worker = get_embedder(Settings(_env_file=None, **settings))


def _embed(texts: list[str]) -> np.ndarray:
    return _worker.embed(texts)


def workers_for(settings: Settings, cores: int | None = None) -> int:
    """`RAG_EMBED_WORKERS`, or (0) one worker per 4 cores where there are 8 or more: below that a
    single process's threads do as well (measured in docs/benchmarks.md)."""
    if settings.embed_workers:
        return settings.embed_workers
    cores = cores or os.cpu_count() or 1
    return cores // 4 if cores >= 8 else 1


class EmbedderPool:
    """`embed` over worker processes, in the caller's order; everything else from `local`."""

    def __init__(self, settings: Settings, local, workers: int):
        self.local, self.workers = local, workers
        self.name, self.dimension = local.name, local.dimension
        threads = max(1, (os.cpu_count() or workers) // workers)
        fields = settings.model_dump(include={"embed_backend", "embed_precision",
                                              "embed_batch_size", "embed_cache_dir"})
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                         initializer=_start,
                                         initargs=({**fields, "embed_threads": threads},))

    def embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) < self.workers * 2:
            return self.local.embed(texts)
        size = -(-len(texts) // self.workers)
        parts = [texts[start:start + size] for start in range(0, len(texts), size)]
        return np.concatenate(list(self._pool.map(_embed, parts)))

    def quick(self, texts: list[str]) -> np.ndarray:
        return self.local.quick(texts)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
