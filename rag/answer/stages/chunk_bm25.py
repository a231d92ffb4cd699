"""Chunk BM25 stage: the chunks whose words best match the question's."""

from __future__ import annotations

import numpy as np

from rag.answer.stages.base import Stage, StageContext


class ChunkBm25Stage(Stage):
    name = "bm25"

    def _all_scores(self, ctx: StageContext) -> np.ndarray:
        if self.name not in ctx.cache:
            ctx.cache[self.name] = ctx.snapshot.bm25.scores(ctx.tokens, ctx.mask)
        return ctx.cache[self.name]

    def nominate(self, ctx: StageContext) -> list[int]:
        scores = self._all_scores(ctx)
        k = ctx.candidates
        rows = np.argpartition(-scores, k - 1)[:k] if scores.size > k else np.arange(scores.size)
        return [int(r) for r in rows if scores[r] > 0]

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray:
        return self._all_scores(ctx)[rows].astype(np.float32)
