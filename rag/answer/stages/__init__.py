"""Ranking stages. Each stage nominates candidate chunks and/or scores candidates with one
signal; retrieval fuses the signals by weight. A new stage is one module here and one line in
`STAGES`; `RAG_RANKING_STAGES` picks which run."""

from __future__ import annotations

from rag.answer.stages.article_bm25 import ArticleBm25Stage
from rag.answer.stages.base import RankingStage, Stage, StageContext
from rag.answer.stages.chunk_bm25 import ChunkBm25Stage
from rag.answer.stages.dense import DenseStage
from rag.answer.stages.recency import RecencyStage
from rag.config import Settings
from rag.errors import ConfigError


# Each stage by name, built from the settings (its weight in the fusion).
STAGES = {
    "dense": lambda s: DenseStage(weight=s.dense_weight),
    "bm25": lambda s: ChunkBm25Stage(weight=1 - s.dense_weight),
    "article_bm25": lambda s: ArticleBm25Stage(weight=s.article_weight),
    "recency": lambda s: RecencyStage(weight=s.recency_weight, half_life_days=s.recency_half_life_days,
                                      latest_boost=s.recency_latest_boost),
}


def default_stages(settings: Settings) -> list[RankingStage]:
    unknown = [name for name in settings.ranking_stages if name not in STAGES]
    if unknown:
        raise ConfigError(f"RAG_RANKING_STAGES: unknown stage(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(STAGES)}")
    return [STAGES[name](settings) for name in settings.ranking_stages]


__all__ = ["ArticleBm25Stage", "ChunkBm25Stage", "DenseStage", "RankingStage", "RecencyStage",
           "Stage", "StageContext",
           "STAGES", "default_stages"]
