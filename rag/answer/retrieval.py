"""Hybrid retrieval: ranking stages nominate candidate chunks and score them, one weighted
fusion of min-max scaled signals orders them, and the passages are grouped by article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from rag.answer.question_dates import QuestionTime, read_question_time
from rag.answer.stages import RankingStage, StageContext
from rag.index.lexical import tokenize
from rag.index.rows_filter import RowFilter
from rag.index.snapshot import Snapshot
from rag.models import Filters


@dataclass
class RetrievalRequest:
    query: str
    query_vector: np.ndarray
    top_k: int
    filters: Filters | None = None
    as_of: datetime | None = None  # None: no as-of cut and no reading of dates (evaluation ablations)
    # False: a window the question names weighs articles instead of excluding those before it
    # (asked again that way when nothing inside the window answered).
    window_excludes: bool = True


@dataclass
class Passage:
    row: int
    id: str
    article_id: str
    n: int
    title: str
    published: str | None
    source: str
    url: str | None
    text: str
    score: float  # fused, 0..1
    signals: dict[str, float] = field(default_factory=dict)  # raw score of each stage, by name
    also_in: list[dict] = field(default_factory=list)  # near-identical copies of its article


@dataclass
class ArticleHit:
    article_id: str
    title: str
    published: str | None
    source: str
    url: str | None
    score: float
    passages: list[Passage] = field(default_factory=list)


@dataclass
class Retrieval:
    query: str
    passages: list[Passage]  # the best top_k, by fused score
    articles: list[ArticleHit]  # every candidate article, best first
    query_tokens: list[str]
    query_vector: np.ndarray
    time: QuestionTime | None = None
    window_cut: bool = False  # the window the question names left out articles published before it


def minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.full_like(values, 1.0 if high > 0 else 0.0)
    return (values - low) / (high - low)


def fuse(signals: list[np.ndarray | None], weights: list[float],
         scaled: list[bool] | None = None) -> np.ndarray | None:
    """Weighted mean of the signals, min-max scaled unless a stage's signal is 0..1 already.
    A stage with nothing to say (None) takes no part; None when none had anything to say."""
    scaled = scaled or [False] * len(signals)
    total, weight_sum = None, 0.0
    for values, weight, ready in zip(signals, weights, scaled):
        if values is None:
            continue
        part = weight * (values if ready else minmax(values))
        total = part if total is None else total + part
        weight_sum += weight
    return total / weight_sum if weight_sum else total


def share_of_best(signals: list[np.ndarray | None], weights: list[float]) -> np.ndarray | None:
    """How close each candidate comes to the best one, 0..1: the weighted mean of each signal as
    a share of its best value. Unlike min-max, a few candidates that all match well stay close
    to 1 instead of being spread over the whole range."""
    total, weight_sum = None, 0.0
    for values, weight in zip(signals, weights):
        if values is None or values.size == 0 or weight <= 0:
            continue
        best = float(values.max())
        part = weight * (np.clip(values, 0, None) / best if best > 0 else np.zeros_like(values))
        total = part if total is None else total + part
        weight_sum += weight
    return total / weight_sum if weight_sum else None


def _mask(snapshot: Snapshot, filters: Filters | None) -> np.ndarray | None:
    if filters is None or filters.empty:
        return None
    after, before = filters.bounds()
    mask = np.ones(len(snapshot), dtype=bool)
    with np.errstate(invalid="ignore"):
        if after is not None:
            mask &= snapshot.published_ts >= after
        if before is not None:
            mask &= snapshot.published_ts <= before
    if filters.source:
        wanted = filters.source.strip().rstrip("/")
        mask &= np.array([s == wanted or s.startswith(wanted + "/") or s.startswith(wanted + ":")
                          for s in snapshot.sources], dtype=bool)
    return mask


def _without_time_words(query: str, time: QuestionTime | None) -> str:
    """The question less the words that name its time ("this week", "in March 2024"): the time
    stages use them, and as words they match any article that says "week" or "March". A window
    that only weighs keeps its words: "in 2026" is then what the article says will happen."""
    if time is None or time.window is None or time.window_as_weight:
        return query
    return query.replace(time.window.phrase, " ", 1)


def _time_mask(snapshot: Snapshot, time: QuestionTime | None) -> tuple[np.ndarray | None, bool]:
    """Rows the question's time allows: nothing published after it is asked, nothing before a
    window it names. Undated articles stay. None when it cuts nothing; and whether the window
    cut an article that the as-of time left."""
    if time is None:
        return None, False
    published = snapshot.published_ts
    with np.errstate(invalid="ignore"):
        cut = published > time.as_of
        window_cut = False
        if time.window_excludes:
            before = published < time.window.start
            window_cut = bool((before & ~cut).any())
            cut |= before
    return (~cut if cut.any() else None), window_cut


def _row_filter(snapshot: Snapshot, mask: np.ndarray | None, filters: Filters | None) -> RowFilter | None:
    if mask is None:
        return None
    after, before = filters.bounds()
    sources = tuple(sorted(set(snapshot.sources[mask].tolist())) or [""]) if filters.source else None
    return RowFilter(published_from=after, published_until=before, sources=sources)


class Retriever:
    def __init__(self, stages: list[RankingStage], candidates: int, read_dates: bool = True,
                 fold_copies: bool = True):
        self.stages = stages
        self.candidates = candidates
        self.read_dates = read_dates  # read the times questions name as date windows
        self.fold_copies = fold_copies  # near-identical articles take one place, as one story

    def retrieve(self, snapshot: Snapshot, collection: Any, request: RetrievalRequest) -> Retrieval:
        # Windows mean nothing to a collection without dates (SciFact): its questions are read
        # for the as-of time only, so that their words are searched as they are.
        time = (None if request.as_of is None else read_question_time(
            request.query, request.as_of, self.read_dates and snapshot.has_dates))
        if time is not None and not request.window_excludes:
            time = time.weighing_only()
        tokens = tokenize(_without_time_words(request.query, time))
        mask = _mask(snapshot, request.filters)
        time_mask, window_cut = _time_mask(snapshot, time)
        # A RowFilter can say the filters but not the as-of cut (undated articles stay,
        # and they have no date field to compare): with that cut, the dense stage searches exactly.
        where = _row_filter(snapshot, mask, request.filters) if time_mask is None else None
        if time_mask is not None:
            mask = time_mask if mask is None else mask & time_mask
        allowed = len(snapshot) if mask is None else int(mask.sum())
        if allowed == 0:
            return Retrieval(request.query, [], [], tokens, request.query_vector, time, window_cut)
        ctx = StageContext(snapshot, collection, request.query, request.query_vector, tokens, mask,
                           where, min(self.candidates, allowed), time)
        nominated: set[int] = set()
        for stage in self.stages:
            nominated.update(stage.nominate(ctx))
        rows = np.array(sorted(nominated), dtype=np.int64)
        signals = [stage.score(ctx, rows) for stage in self.stages]
        weights = [stage.weight_for(ctx) for stage in self.stages]
        scaled = [stage.scaled for stage in self.stages]
        refined = self._refined(ctx, rows, signals, weights)
        if refined is None:
            fused = fuse(signals, weights, scaled)
        else:
            # Compared as shares of the best, as the refining stage saw them: min-max would
            # spread a few articles that all match the subject over the whole range.
            # Min-max over the candidates afterwards (same order): the passage scores keep the
            # range the gate and the answer sentence were calibrated on.
            signals = refined
            fused = share_of_best(signals, weights)
            fused = None if fused is None else minmax(fused)
        if fused is None:  # only stages without a signal (RAG_RANKING_STAGES=recency, say)
            fused = np.zeros(len(rows), dtype=np.float32)
        order = np.argsort(-fused, kind="stable")
        named = [(stage.name, s) for stage, s in zip(self.stages, signals) if s is not None]
        passages = [self._passage(snapshot, int(rows[i]), float(fused[i]),
                                  {n: float(s[i]) for n, s in named}) for i in order]
        if self.fold_copies and snapshot.stories:
            passages = fold_copies(snapshot, passages, mask)
        return Retrieval(request.query, passages[:request.top_k], group_by_article(passages), tokens,
                         request.query_vector, time, window_cut)

    def _refined(self, ctx: StageContext, rows: np.ndarray, signals: list,
                 weights: list[float]) -> list | None:
        """The signals with those re-read where a stage needs the others' verdict first (recency
        for "now" and "latest": the newest article among those on the subject); None when no
        stage re-read its signal."""
        out, changed = list(signals), False
        for i, stage in enumerate(self.stages):
            others = [None if j == i else s for j, s in enumerate(signals)]
            refined = stage.refine(ctx, rows, lambda others=others: share_of_best(others, weights))
            if refined is not None:
                out[i], changed = refined, True
        return out if changed else None

    @staticmethod
    def _passage(snapshot: Snapshot, row: int, score: float, signals: dict[str, float]) -> Passage:
        record = snapshot.records[row]
        return Passage(row=row, id=snapshot.ids[row], article_id=record["article_id"], n=record["n"],
                       title=record["title"], published=record["published"], source=record["source"],
                       url=record["url"], text=record["text"], score=score, signals=signals)


def fold_copies(snapshot: Snapshot, passages: list[Passage], mask: np.ndarray | None) -> list[Passage]:
    """One story, one article: the best-ranked copy stays and lists the others (those that exist
    at the question's time); the other copies' passages go."""
    shown: dict[str, str] = {}
    kept = []
    for passage in passages:
        story = snapshot.story_of(passage.article_id)
        if shown.setdefault(story, passage.article_id) != passage.article_id:
            continue
        members = snapshot.story_members.get(story, ())
        passage.also_in = [_copy(snapshot, other) for other in members if other != passage.article_id
                           and (mask is None or mask[snapshot.first_row[other]])]
        kept.append(passage)
    return kept


def _copy(snapshot: Snapshot, article_id: str) -> dict:
    entry = snapshot.articles[article_id]
    return {"article_id": entry.id, "title": entry.title, "published": entry.published,
            "source": entry.source, "url": entry.url}


def group_by_article(passages: list[Passage]) -> list[ArticleHit]:
    hits: dict[str, ArticleHit] = {}
    for passage in passages:
        hit = hits.get(passage.article_id)
        if hit is None:
            hit = hits[passage.article_id] = ArticleHit(
                passage.article_id, passage.title, passage.published, passage.source,
                passage.url, passage.score)
        hit.passages.append(passage)
    return sorted(hits.values(), key=lambda h: -h.score)
