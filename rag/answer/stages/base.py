"""What a ranking stage sees and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from rag.answer.question_dates import QuestionTime
from rag.index.rows_filter import RowFilter
from rag.index.snapshot import Snapshot
from rag.index.store import Collection


@dataclass
class StageContext:
    """One question against one snapshot: shared by every stage of that question."""

    snapshot: Snapshot
    collection: Collection  # the snapshot's rows in the store (rag.index.store.Collection)
    query: str
    query_vector: np.ndarray
    tokens: list[str]
    mask: np.ndarray | None  # rows the filters and the as-of time allow; None when all are
    where: RowFilter | None  # the same filters for the store's search; None when it cannot say them
    candidates: int  # how many chunks each nominating stage may put forward
    time: QuestionTime | None = None  # when the question is asked and what time it names
    cache: dict[str, Any] = field(default_factory=dict)  # for work two calls of a stage share


class RankingStage(Protocol):
    name: str  # the signal's name, kept on every passage
    weight: float  # its weight in the fusion; 0 keeps the signal without ranking by it
    scaled: bool  # True: the signal is 0..1 already and fusion takes it as it is

    def weight_for(self, ctx: StageContext) -> float:
        """Its weight for this question (the same as `weight` unless the question changes it)."""
        ...

    def nominate(self, ctx: StageContext) -> list[int]:
        """Rows this stage puts forward as candidates (may be none)."""
        ...

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray | None:
        """The stage's raw signal for each candidate row (fusion scales it), or None when it has
        nothing to say about this question (it then takes no part in the fusion)."""
        ...

    def refine(self, ctx: StageContext, rows: np.ndarray,
               relevance: Callable[[], np.ndarray | None]) -> np.ndarray | None:
        """A signal that replaces `score`'s once the other stages have spoken (`relevance()`:
        their fusion for each row), or None to keep it."""
        ...


class Stage:
    """Defaults for a stage: a fixed weight, a signal fusion scales, no nominations."""

    name = "stage"
    scaled = False

    def __init__(self, weight: float):
        self.weight = weight

    def weight_for(self, ctx: StageContext) -> float:
        return self.weight

    def nominate(self, ctx: StageContext) -> list[int]:
        return []

    def refine(self, ctx: StageContext, rows: np.ndarray,
               relevance: Callable[[], np.ndarray | None]) -> np.ndarray | None:
        return None
