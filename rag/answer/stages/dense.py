"""Dense stage: nearest chunks by embedding (Chroma), scored by cosine to the question."""

from __future__ import annotations

import numpy as np

from rag.answer.stages.base import StageContext
from rag.errors import StoreUnavailable


class DenseStage:
    name = "dense"

    def __init__(self, weight: float):
        self.weight = weight

    def nominate(self, ctx: StageContext) -> list[int]:
        try:
            found = ctx.collection.query(query_embeddings=[ctx.query_vector.tolist()],
                                         n_results=ctx.candidates, where=ctx.where,
                                         include=["distances"])
        except Exception as exc:  # connection refused, server gone, collection dropped
            raise StoreUnavailable(
                f"the index store is unavailable: dense search failed: {type(exc).__name__}: {exc}"
            ) from exc
        id_to_row = ctx.snapshot.id_to_row
        return [id_to_row[i] for i in found["ids"][0] if i in id_to_row]

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray:
        return ctx.snapshot.vectors[rows].astype(np.float32) @ ctx.query_vector.astype(np.float32)
