"""Ranking stages. Each stage nominates candidate chunks and/or scores candidates with one
signal; retrieval fuses the signals by weight. A new stage is one module here and one line in
`default_stages`."""

from __future__ import annotations

from rag.answer.stages.article_bm25 import ArticleBm25Stage
from rag.answer.stages.base import RankingStage, StageContext
from rag.answer.stages.chunk_bm25 import ChunkBm25Stage
from rag.answer.stages.dense import DenseStage
from rag.config import Settings


def default_stages(settings: Settings) -> list[RankingStage]:
    return [
        DenseStage(weight=settings.dense_weight),
        ChunkBm25Stage(weight=1 - settings.dense_weight),
        ArticleBm25Stage(weight=settings.article_weight),
    ]


__all__ = ["ArticleBm25Stage", "ChunkBm25Stage", "DenseStage", "RankingStage", "StageContext",
           "default_stages"]
