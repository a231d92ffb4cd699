"""Dense stage: nearest chunks by embedding (the store's search), scored by cosine to the question."""

from __future__ import annotations

import numpy as np

from rag.answer.stages.base import Stage, StageContext
from rag.errors import StoreUnavailable


SLACK = 64


class DenseStage(Stage):
    name = "dense"

    def nominate(self, ctx: StageContext) -> list[int]:
        if ctx.mask is not None and ctx.where is None:
            return self._exact(ctx)
        # The collection also holds rows that are not this snapshot's: removed ones awaiting
        # deletion, and those of an update under way. Ask for that many more and keep ours.
        asked = ctx.candidates + ctx.snapshot.foreign_rows + SLACK
        try:
            found = ctx.collection.nearest(ctx.query_vector, asked, ctx.where)
        except Exception as exc:  # connection refused, server gone, collection dropped
            raise StoreUnavailable(
                f"the index store is unavailable: dense search failed: {type(exc).__name__}: {exc}"
            ) from exc
        found_rows = (ctx.snapshot.row_of(i) for i in found)
        rows = [row for row in found_rows if row is not None][:ctx.candidates]
        if len(rows) < ctx.candidates and len(found) >= asked:
            # An update added more rows than the slack covers: search our own rows exactly.
            return self._exact(ctx)
        return rows

    @staticmethod
    def _exact(ctx: StageContext) -> list[int]:
        """The nearest allowed chunks by brute force over the snapshot's vectors: for a cut a
        RowFilter cannot say (an as-of time keeps undated articles, which have no date field).
        A first cut over int8 copies of the vectors (rag.index.quantized: a quarter of a float32
        copy's memory), then twice as many as asked and 64 more are scored again from the float16
        vectors and cut: the rows an all-float32 search finds unless int8 rounding (about 0.002
        a score) carried a row past all of those."""
        vectors = ctx.snapshot.vectors
        query = ctx.query_vector.astype(np.float32)
        mask = ctx.mask if ctx.mask is not None else np.ones(len(vectors), dtype=bool)
        allowed = int(mask.sum())
        k = min(ctx.candidates, allowed)
        if k <= 0:
            return []
        rough = ctx.snapshot.quantized.scores(query)
        rough[~mask] = -np.inf
        wide = min(allowed, 2 * k + SLACK)
        top = np.argpartition(-rough, wide - 1)[:wide] if rough.size > wide else np.arange(rough.size)
        top = np.sort(top[mask[top]])  # in file order: neighbouring rows are read together
        exact = vectors[top].astype(np.float32) @ query
        best = top[np.argpartition(-exact, k - 1)[:k]] if top.size > k else top
        return [int(i) for i in best]

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray:
        return ctx.snapshot.vectors[rows].astype(np.float32) @ ctx.query_vector.astype(np.float32)
