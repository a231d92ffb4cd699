"""Whole-article BM25 stage: a question's words spread over several chunks of one article still
meet here. It nominates nothing; it lifts chunks of articles that match as a whole."""

from __future__ import annotations

import numpy as np

from rag.answer.stages.base import Stage, StageContext


class ArticleBm25Stage(Stage):
    name = "article_bm25"

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray:
        snapshot = ctx.snapshot
        article_rows = snapshot.row_article[np.asarray(rows, dtype=np.int64)]
        return snapshot.article_bm25.scores(ctx.tokens)[article_rows].astype(np.float32)
