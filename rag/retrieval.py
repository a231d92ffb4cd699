"""Hybrid retrieval: dense (Chroma) and BM25 over the same chunks, fused by min-max weighted
scores, then grouped by article; with the relevance signal that decides a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time as dtime

import numpy as np

from rag.chunking import embed_text
from rag.dates import parse_date, to_timestamp
from rag.generation import Generation
from rag.lexical import tokenize
from rag.store import StoreUnavailable


class BadFilter(ValueError):
    pass


@dataclass
class Filters:
    published_after: str | None = None
    published_before: str | None = None
    source: str | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        return _bound(self.published_after, "published_after", end=False), _bound(
            self.published_before, "published_before", end=True)

    @property
    def empty(self) -> bool:
        return not (self.published_after or self.published_before or self.source)


def _bound(value: str | None, name: str, end: bool) -> float | None:
    if not value:
        return None
    iso = parse_date(value)
    if iso is None:
        raise BadFilter(f"{name}: '{value}' is not a date (use YYYY-MM-DD)")
    stamp = datetime.fromisoformat(iso)
    if end and stamp.time() == dtime(0, 0) and len(value.strip()) <= 10:
        stamp = stamp.replace(hour=23, minute=59, second=59)  # a whole day is inclusive
    return float(to_timestamp(stamp.isoformat()))


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
    dense: float
    bm25: float
    score: float
    coverage: float = 0.0


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
    relevance: float
    query_tokens: list[str]


def _mask(generation: Generation, filters: Filters | None) -> np.ndarray | None:
    if filters is None or filters.empty:
        return None
    after, before = filters.bounds()
    mask = np.ones(len(generation), dtype=bool)
    with np.errstate(invalid="ignore"):
        if after is not None:
            mask &= generation.published_ts >= after
        if before is not None:
            mask &= generation.published_ts <= before
    if filters.source:
        wanted = filters.source.strip().rstrip("/")
        sources = generation.sources
        mask &= np.array([s == wanted or s.startswith(wanted + "/") or s.startswith(wanted + ":")
                          for s in sources], dtype=bool)
    return mask


def _chroma_where(generation: Generation, mask: np.ndarray | None, filters: Filters | None):
    if mask is None:
        return None
    clauses = []
    after, before = filters.bounds()
    if after is not None:
        clauses.append({"published_ts": {"$gte": after}})
    if before is not None:
        clauses.append({"published_ts": {"$lte": before}})
    if filters.source:
        clauses.append({"source": {"$in": sorted(set(generation.sources[mask].tolist())) or [""]}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.full_like(values, 1.0 if high > 0 else 0.0)
    return (values - low) / (high - low)


def coverage(query_tokens: list[str], passage_tokens: set[str], idf: list[float]) -> float:
    """IDF-weighted share of the question's terms found in a passage (title included)."""
    if not query_tokens:
        return 0.0
    total = sum(idf)
    found = sum(w for t, w in zip(query_tokens, idf) if t in passage_tokens)
    return found / total if total else 0.0


def relevance(dense: float, cover: float) -> float:
    """The refusal signal: meaning and wording together. Either alone is fooled: questions on
    the same topic embed close without being answered, and common words match anywhere."""
    return 0.5 * dense + 0.5 * cover


def retrieve(generation: Generation, collection, query: str, query_vector: np.ndarray,
             top_k: int, candidates: int, dense_weight: float,
             filters: Filters | None = None, article_weight: float = 0.0) -> Retrieval:
    tokens = tokenize(query)
    if len(generation) == 0:
        return Retrieval(query, [], [], 0.0, tokens)
    mask = _mask(generation, filters)
    allowed = len(generation) if mask is None else int(mask.sum())
    if allowed == 0:
        return Retrieval(query, [], [], 0.0, tokens)
    k = min(candidates, allowed)

    where = _chroma_where(generation, mask, filters)
    try:
        found = collection.query(query_embeddings=[query_vector.tolist()], n_results=k,
                                 where=where, include=["distances"])
    except Exception as exc:  # connection refused, server gone, collection dropped
        raise StoreUnavailable(f"dense search failed: {type(exc).__name__}: {exc}") from exc
    dense_rows = [generation.id_to_row[i] for i in found["ids"][0] if i in generation.id_to_row]

    bm25_scores = generation.bm25.scores(tokens, mask)
    if bm25_scores.size > k:
        bm25_rows = np.argpartition(-bm25_scores, k - 1)[:k]
    else:
        bm25_rows = np.arange(bm25_scores.size)
    bm25_rows = [int(r) for r in bm25_rows if bm25_scores[r] > 0]

    rows = np.array(sorted(set(dense_rows) | set(bm25_rows)), dtype=np.int64)
    dense = generation.vectors[rows].astype(np.float32) @ query_vector.astype(np.float32)
    lexical = bm25_scores[rows].astype(np.float32)
    fused = dense_weight * _minmax(dense) + (1 - dense_weight) * _minmax(lexical)
    if article_weight:
        fused = (fused + article_weight * _article_signal(generation, rows, tokens)) / (1 + article_weight)
    order = np.argsort(-fused, kind="stable")

    idf = generation.bm25.idf(tokens)
    passages = []
    for i in order:
        row = int(rows[i])
        record = generation.records[row]
        passage = Passage(
            row=row, id=generation.ids[row], article_id=record["article_id"], n=record["n"],
            title=record["title"], published=record["published"], source=record["source"],
            url=record["url"], text=record["text"], dense=float(dense[i]),
            bm25=float(lexical[i]), score=float(fused[i]),
        )
        passages.append(passage)
    top = passages[:top_k]
    for passage in top:
        passage_tokens = set(tokenize(embed_text(passage.title, passage.published, passage.text)))
        passage.coverage = coverage(tokens, passage_tokens, idf)
    best = max((relevance(p.dense, p.coverage) for p in top), default=0.0)
    return Retrieval(query, top, group_by_article(passages), best, tokens)


def _article_signal(generation: Generation, rows: np.ndarray, tokens: list[str]) -> np.ndarray:
    """Whole-article BM25 of each candidate chunk's article, min-max scaled over the candidates."""
    article_rows = np.array([generation.article_row[generation.records[r]["article_id"]] for r in rows])
    scores = generation.article_bm25.scores(tokens)[article_rows].astype(np.float32)
    return _minmax(scores)


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
