"""Large rebuilds embedded by several processes (rag/index/embed_pool.py), with the real model."""

import numpy as np

from rag.index import embed_pool
from rag.index.build import rebuild
from rag.index.embedding import get_embedder
from rag.service import RagService
from tests.conftest import SEED_QUESTION, make_settings

TEXTS = [f"Report {i}: the council approved {i * 7} million euros for the harbour on day {i}."
         + " The work starts next spring." * (i % 4) for i in range(120)]


def test_workers_follow_the_cores_unless_set(tmp_path):
    settings = make_settings(tmp_path)
    assert [embed_pool.workers_for(settings, cores) for cores in (1, 2, 4, 8, 16)] == [1, 1, 1, 2, 4]
    assert embed_pool.workers_for(settings.model_copy(update={"embed_workers": 3}), 2) == 3


def test_a_pool_gives_the_local_vectors_in_order(tmp_path):
    settings = make_settings(tmp_path, embed_workers=2)
    local = get_embedder(settings)
    pool = embed_pool.EmbedderPool(settings, local, 2)
    try:
        pooled = pool.embed(TEXTS)
        assert pooled.shape == (len(TEXTS), local.dimension) and pool.name == local.name
        assert ((pooled * local.embed(TEXTS)).sum(axis=1)).min() >= 0.9999
        assert np.array_equal(pool.quick(TEXTS[:3]), local.quick(TEXTS[:3]))
    finally:
        pool.close()


def test_a_large_rebuild_goes_through_the_pool(tmp_path, seeds_copy, monkeypatch):
    monkeypatch.setattr(embed_pool, "MIN_TEXTS", 1)  # the seed article is "large" here
    used = []
    real = embed_pool.EmbedderPool.embed

    def spying(self, texts):
        used.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(embed_pool.EmbedderPool, "embed", spying)
    settings = make_settings(tmp_path, seeds_dir=seeds_copy, embed_workers=2)
    summary = rebuild(settings)
    assert sum(used) == summary.embedded_chunks > 0
    assert "400,000" in RagService(settings).answer(SEED_QUESTION).answer
