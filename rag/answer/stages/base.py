"""What a ranking stage sees and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rag.index.snapshot import Snapshot


@dataclass
class StageContext:
    """One question against one snapshot: shared by every stage of that question."""

    snapshot: Snapshot
    collection: Any  # the snapshot's Chroma collection (or anything with Chroma's `query`)
    query: str
    query_vector: np.ndarray
    tokens: list[str]
    mask: np.ndarray | None  # rows the filters allow; None when all are allowed
    where: dict | None  # the same filters in Chroma's `where` form
    candidates: int  # how many chunks each nominating stage may put forward
    cache: dict[str, Any] = field(default_factory=dict)  # for work two calls of a stage share


class RankingStage(Protocol):
    name: str  # the signal's name, kept on every passage
    weight: float  # its weight in the fusion; 0 keeps the signal without ranking by it

    def nominate(self, ctx: StageContext) -> list[int]:
        """Rows this stage puts forward as candidates (may be none)."""
        ...

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray:
        """The stage's raw signal for each candidate row (fusion scales it)."""
        ...
