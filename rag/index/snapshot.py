"""One index snapshot: chunk records, their vectors, BM25 and the article manifest. BM25 and the
manifest are held in memory; records, vectors and sketches, once saved, are read from the
snapshot folders' files when needed (rag.index.records, rag.index.row_blocks).

Chroma holds the truth. The folder `index/snapshots/<name>/` is a local cache of what can be
derived from it (rag.index.snapshot_files), written by the rebuild and re-derived from Chroma by
any process that lacks it (another API worker on another machine, for instance).

A snapshot is either assembled whole or derived from the one before it: that one's rows less the
removed articles', then the new rows. Derivation costs what changed plus a few array copies: the
record dicts, term counts and sketches of unchanged articles are carried, not recomputed."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from rag.index.copies import EMPTY, band_keys, group_stories, sketch_texts
from rag.ingest.chunking import Chunk, chunk_id, embed_text
from rag.ingest.dates import to_timestamp
from rag.index.lexical import Bm25Index, Vocabulary, tokenize
from rag.index.quantized import Quantized
from rag.index.records import Records
from rag.index.row_blocks import RowBlocks

CHUNK_FIELDS = ("article_id", "n", "title", "published", "source", "url")
ALIVE = 2**31 - 1  # `died` of a row no snapshot has removed


@dataclass(slots=True)  # one per article in every worker: no per-instance dict
class ArticleEntry:
    id: str
    title: str
    published: str | None
    source: str
    url: str | None
    sha256: str
    raw_hash: str
    chunks: int
    born: int = 0  # the snapshot that added its rows (0: an index from before in-place updates)


def row_id(article_id: str, n: int, born: int) -> str:
    """A chunk's row id in Chroma: an article changed in place gets rows of new ids, so that
    readers of the snapshot before still find the old ones."""
    return chunk_id(article_id, n) if born == 0 else f"{chunk_id(article_id, n)}@{born}"


@dataclass
class SaveHistory:
    """Where a snapshot came from, for saving only what changed: the snapshot it was derived
    from, how many of its rows and articles were carried from there, which articles it dropped
    (and their rows), and how many saved deltas lead back to a whole save. A whole snapshot has
    the empty history."""

    base: str | None = None
    kept_rows: int = 0
    kept_articles: int = 0
    removed: list[str] = field(default_factory=list)
    removed_rows: int = 0
    chain: int = 0


@dataclass
class Snapshot:
    name: str
    fingerprint: str
    ids: list[str]  # Chroma row ids
    records: Records  # per chunk: CHUNK_FIELDS + text (rag.index.records: on disk once saved)
    vectors: np.ndarray | RowBlocks  # float16, normalized, one row per chunk (read from file once saved)
    bm25: Bm25Index
    articles: dict[str, ArticleEntry]
    # BM25 over whole articles (title and all chunk texts), rows in article_order.
    article_bm25: Bm25Index
    article_order: list[str]
    # article id -> story id, for articles with near-identical copies (rag.index.copies).
    stories: dict[str, str] | None = None
    # MinHash per article, rows in article_order; read only by updates (rag.index.row_blocks)
    sketches: np.ndarray | RowBlocks | None = None
    row_article: np.ndarray | None = None  # per chunk row: its article's row in article_order
    published_ts: np.ndarray | None = None
    sources: np.ndarray | None = None
    seq: int = 0  # this snapshot's number in its collection
    collection: str | None = None  # the Chroma collection of its rows (None: named like it)
    # Where it came from: only saving reads it (rag/index/snapshot_files.py), readers never.
    history: SaveHistory = field(default_factory=lambda: SaveHistory())
    # Rows in its collection that are not its own (removed, awaiting deletion): dense search
    # asks Chroma for that many more.
    foreign_rows: int = 0
    # The rows it marked removed (deleted by the next update); None: not known here.
    dead_ids: list[str] | None = None
    # Each article's row in article_order, and its first chunk row: made here unless given.
    article_row: dict[str, int] | None = field(default=None, repr=False)
    first_row: Mapping[str, int] | None = field(default=None, repr=False)
    # The sketches' LSH band keys (rag.index.copies.band_keys), kept once an update has made
    # them, so that the next update keys only what it adds; None in a process that never updated.
    band_keys: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        self.records = Records.of(self.records)
        if self.published_ts is None:
            stamps = [to_timestamp(r.get("published")) for r in self.records]
            self.published_ts = np.array([s if s is not None else np.nan for s in stamps],
                                         dtype=np.float64)
        if self.sources is None:
            self.sources = np.array([r["source"] for r in self.records], dtype=object)
        if self.article_row is None:
            self.article_row = dict(zip(self.article_order, range(len(self.article_order))))
        if self.row_article is None:
            self.row_article = np.array([self.article_row[r["article_id"]] for r in self.records],
                                        dtype=np.int64)
        if self.sketches is None:
            self.sketches = sketch_texts(article_texts(self.records, self.article_order))
        if self.stories is None:
            self.stories = group_stories(self.article_order, self.sketches)
        self.has_dates = bool((~np.isnan(self.published_ts)).any())
        self.story_members: dict[str, list[str]] = {}
        for article_id, story in sorted(self.stories.items()):
            self.story_members.setdefault(story, []).append(article_id)
        if self.first_row is None:
            self.first_row = first_rows(self.row_article, self.article_order, self.article_row)

    def row_of(self, row_id: str) -> int | None:
        """This snapshot's row of a Chroma row id (None: a row of another snapshot)."""
        chunk, at, born = row_id.rpartition("@")
        if not at or not born.isdigit() or "::" not in chunk:
            chunk, born = row_id, "0"
        article_id, _, n = chunk.rpartition("::")
        entry = self.articles.get(article_id)
        if entry is None or entry.born != int(born) or not n.isdigit() or int(n) >= entry.chunks:
            return None
        return self.first_row[article_id] + int(n)
    @property
    def collection_name(self) -> str:
        return self.collection or self.name

    def story_of(self, article_id: str) -> str:
        return self.stories.get(article_id, article_id)

    @cached_property
    def quantized(self) -> Quantized:
        """int8 copies of the vectors, made on first use (an exact search over every row)."""
        return Quantized.of(self.vectors)

    def __len__(self) -> int:
        return len(self.ids)


class FirstRows(Mapping):
    """Each article's first chunk row, read from an array by the article's row in article_order:
    an update makes no dict of a million entries for it (0.13 s at a million articles)."""

    def __init__(self, article_row: dict[str, int], starts: np.ndarray):
        self.article_row, self.starts = article_row, starts

    def __getitem__(self, article_id: str) -> int:
        return int(self.starts[self.article_row[article_id]])

    def __contains__(self, article_id) -> bool:
        return article_id in self.article_row

    def __iter__(self):
        return iter(self.article_row)

    def __len__(self) -> int:
        return len(self.article_row)


def first_rows(row_article: np.ndarray, article_order: list[str],
               article_row: dict[str, int]) -> Mapping[str, int]:
    """Each article's first chunk row: an article's chunks are contiguous rows, in order."""
    starts = np.flatnonzero(np.r_[True, row_article[1:] != row_article[:-1]]) \
        if len(row_article) else np.zeros(0, dtype=np.int64)
    articles = row_article[starts]
    if len(articles) == len(article_order) and (articles == np.arange(len(articles))).all():
        return FirstRows(article_row, starts)  # every article has rows, in order
    return dict(zip([article_order[a] for a in articles], starts.tolist()))


def _without(items: list, positions: np.ndarray) -> list:
    """A copy of `items` less those at `positions` (ascending). An update removes a few of a
    million: the list is copied whole and those few deleted, not rebuilt item by item."""
    if positions.size > 1000:
        keep = np.ones(len(items), dtype=bool)
        keep[positions] = False
        return [items[i] for i in np.flatnonzero(keep).tolist()]
    out = list(items)
    for position in positions[::-1].tolist():
        del out[position]
    return out


def chunk_metadata(chunk: Chunk, raw_hash: str, born: int = 0) -> dict:
    meta = {
        "article_id": chunk.article_id, "n": chunk.n, "title": chunk.title,
        "source": chunk.source, "sha256": chunk.sha256, "raw_hash": raw_hash,
    }
    if born:
        meta["born"], meta["died"] = born, ALIVE
    # Chroma metadata cannot hold None: absent fields are simply left out.
    if chunk.published:
        meta["published"] = chunk.published
        stamp = to_timestamp(chunk.published)
        if stamp is not None:
            meta["published_ts"] = stamp
    if chunk.url:
        meta["url"] = chunk.url
    return meta


def record_metadata(record: dict, entry: ArticleEntry, born: int, died: int = ALIVE) -> dict:
    """A held row's metadata again (to mark it removed, or to carry it to a new row)."""
    chunk = Chunk(record["article_id"], record["n"], record["text"], record["title"],
                  record["published"], entry.source, record["url"], entry.sha256)
    meta = chunk_metadata(chunk, entry.raw_hash, born)
    if born:
        meta["died"] = died
    return meta


def record_from_metadata(meta: dict, text: str) -> dict:
    record = {k: meta.get(k) for k in CHUNK_FIELDS}
    record["n"] = int(record["n"])
    record["text"] = text
    return record


def manifest_from_metadata(metas: list[dict]) -> dict[str, ArticleEntry]:
    articles: dict[str, ArticleEntry] = {}
    for meta in metas:
        entry = articles.get(meta["article_id"])
        if entry is None:
            articles[meta["article_id"]] = ArticleEntry(
                id=meta["article_id"], title=meta["title"], published=meta.get("published"),
                source=meta["source"], url=meta.get("url"), sha256=meta["sha256"],
                raw_hash=meta.get("raw_hash", ""), chunks=1, born=int(meta.get("born", 0)),
            )
        else:
            entry.chunks += 1
    return articles


def article_texts(records: list[dict], order: list[str]) -> list[str]:
    """Each article's title and chunk texts, as one text. The overlap between chunks repeats
    some words; for ranking articles and spotting copies that does no harm."""
    texts: dict[str, list[str]] = {}
    for record in records:
        texts.setdefault(record["article_id"], [record["title"]]).append(record["text"])
    return [" ".join(texts[a]) for a in order]


def empty(name: str, fingerprint: str, width: int = 0, seq: int = 0,
          collection: str | None = None) -> Snapshot:
    vocab = Vocabulary()
    none = sparse.csr_matrix((0, 0), dtype=np.float32)
    return Snapshot(name, fingerprint, [], [], np.zeros((0, width), dtype=np.float16),
                    Bm25Index.from_counts(vocab, none), {}, Bm25Index.from_counts(vocab, none), [],
                    {}, EMPTY,
                    np.zeros(0, dtype=np.int64), np.zeros(0), np.array([], dtype=object),
                    seq=seq, collection=collection)


@dataclass
class NewRows:
    """What an update adds: rows of whole articles, each article's rows together and in order.
    Term counts and sketches are computed from the records unless given (read from a cache)."""
    ids: list[str]
    records: list[dict] | Records
    vectors: np.ndarray
    entries: dict[str, ArticleEntry]
    chunk_counts: tuple[list[str], sparse.csr_matrix] | None = None  # (terms, counts)
    article_counts: tuple[list[str], sparse.csr_matrix] | None = None
    sketches: np.ndarray | None = None
    # Fields of every record, read beforehand (rag.index.records.scan_jsonl): no second reading.
    columns: dict[str, list] | None = None

    def column(self, name: str) -> list:
        if self.columns is not None and name in self.columns:
            return self.columns[name]
        return [r[name] for r in self.records]

    def article_order(self) -> list[str]:
        return list(dict.fromkeys(self.column("article_id")))


def _float16_rows(vectors, width: int):
    """New rows' vectors as float16 rows, left where they are when already so (a saved file)."""
    if isinstance(vectors, RowBlocks):
        return vectors
    return np.asarray(vectors, dtype=np.float16).reshape(-1, width)


def _chunk_tokens(records: list[dict]) -> list[list[str]]:
    return [tokenize(embed_text(r["title"], r["published"], r["text"])) for r in records]


def _counts(vocab: Vocabulary, new: "NewRows", name: str, token_lists) -> sparse.csc_matrix:
    """The new rows' counts over `vocab`'s columns, column-major as the BM25 index keeps them.
    Counts `new` was given are taken out of it: their row-major copy goes as soon as this one is
    made, not at the end of the derive (150 MB more at the peak of a 200,000-article build)."""
    given = getattr(new, name)
    setattr(new, name, None)
    if given is None:
        return sparse.csc_matrix(vocab.counts(token_lists()))
    terms, counts = given
    del given
    columns = np.array([vocab.column(t) for t in terms], dtype=np.int32)
    counts = sparse.csr_matrix(counts)
    if len(columns) != len(vocab) or (columns != np.arange(len(columns))).any():
        counts = sparse.csr_matrix((counts.data, columns[counts.indices], counts.indptr),
                                   shape=(counts.shape[0], len(vocab)))
    return counts.tocsc()


def derive(previous: Snapshot, name: str, removed: set[str], new: NewRows, seq: int,
           collection: str | None = None, dead_ids: list[str] | None = None,
           stories: dict[str, str] | None = None) -> Snapshot:
    """`previous` less the articles in `removed`, then `new`'s rows. `stories`: the grouping,
    when known (read from a cache); otherwise regrouped where the update touched it."""
    gone = np.array(sorted(previous.article_row[a] for a in removed if a in previous.article_row),
                    dtype=np.int64)
    alive = np.ones(len(previous.article_order), dtype=bool)
    alive[gone] = False
    keep_articles = np.flatnonzero(alive)
    gone_rows = ~alive[previous.row_article]
    keep_rows = np.flatnonzero(~gone_rows)
    # Old article rows -> their rows now (the kept ones move up over the removed).
    renumber = np.full(len(previous.article_order) + 1, -1, dtype=np.int64)
    renumber[keep_articles] = np.arange(len(keep_articles))
    new_order = new.article_order()
    order = _without(previous.article_order, gone) + new_order
    article_row = dict(zip(order, range(len(order))))
    new_rows = np.array([article_row[a] for a in new.column("article_id")], dtype=np.int64)
    kept_records = previous.records if gone.size == 0 else previous.records.take(keep_rows)

    vocab = previous.bm25.vocab
    # Whole texts only where counts or sketches are not given (a cache gives both).
    texts = (article_texts(new.records, new_order)
             if new.article_counts is None or new.sketches is None else None)
    # What the removed rows counted, tokenized again (cheaper than keeping row-major copies).
    gone_records = [previous.records[r] for r in np.flatnonzero(gone_rows)]
    gone_order = [previous.article_order[a] for a in gone]
    removed_chunks = vocab.counts(_chunk_tokens(gone_records))
    removed_articles = vocab.counts([tokenize(t) for t in article_texts(gone_records, gone_order)])
    sketches = new.sketches if new.sketches is not None else sketch_texts(texts)
    chunk_counts = _counts(vocab, new, "chunk_counts", lambda: _chunk_tokens(new.records))
    article_counts = _counts(vocab, new, "article_counts", lambda: [tokenize(t) for t in texts])
    bm25 = previous.bm25.derive(keep_rows, chunk_counts, removed_chunks)
    article_bm25 = previous.article_bm25.derive(keep_articles, article_counts, removed_articles)
    del chunk_counts, article_counts
    width = (new.vectors.shape[1] if new.vectors.ndim == 2 and len(new.ids)
             else previous.vectors.shape[1])
    kept_vectors = [RowBlocks.of(previous.vectors).take(keep_rows)] if len(keep_rows) else []
    stamps = [to_timestamp(p) for p in new.column("published")]
    articles = dict(previous.articles)
    for article_id in removed:
        articles.pop(article_id, None)
    articles.update(new.entries)
    all_sketches = RowBlocks.join([RowBlocks.of(previous.sketches).take(keep_articles), sketches])
    keys = None
    if previous.band_keys is not None:
        keys = np.concatenate([previous.band_keys[keep_articles], band_keys(sketches)])
    if stories is None:
        if keys is None and len(previous):
            keys = band_keys(all_sketches)  # the first update in this process: kept from now on
        stories = group_stories(order, all_sketches, previous.stories if len(previous) else None,
                                fresh=set(new_order), row_of=article_row, keys=keys)
    row_article = np.concatenate([renumber[previous.row_article[keep_rows]], new_rows])
    return Snapshot(
        name, previous.fingerprint, _without(previous.ids, np.flatnonzero(gone_rows)) + list(new.ids),
        Records.join([kept_records, Records.of(new.records)]),
        RowBlocks.join(kept_vectors + [_float16_rows(new.vectors, width)]),
        bm25, articles, article_bm25, order, stories=stories, sketches=all_sketches,
        row_article=row_article,
        published_ts=np.concatenate([previous.published_ts[keep_rows],
                                     np.array([s if s is not None else np.nan for s in stamps],
                                              dtype=np.float64)]),
        sources=np.concatenate([previous.sources[keep_rows],
                                np.array([sys.intern(s) for s in new.column("source")],
                                         dtype=object)]),
        seq=seq, collection=collection, foreign_rows=len(dead_ids or ()), dead_ids=dead_ids,
        history=SaveHistory(base=previous.name, kept_rows=len(keep_rows),
                            kept_articles=len(keep_articles),
                            removed=sorted(a for a in removed if a in previous.article_row),
                            removed_rows=int(gone_rows.sum()), chain=previous.history.chain + 1),
        article_row=article_row, first_row=first_rows(row_article, order, article_row),
        band_keys=keys,
    )


def assemble(name: str, fingerprint: str, ids: list[str], metas: list[dict], texts: list[str],
             vectors: np.ndarray, seq: int = 0, collection: str | None = None,
             width: int | None = None) -> Snapshot:
    """A whole snapshot from what Chroma holds (or is about to hold), ordered by article and
    chunk."""
    order = sorted(range(len(ids)), key=lambda i: (metas[i]["article_id"], int(metas[i]["n"])))
    vectors = np.asarray(vectors, dtype=np.float16)
    width = width if width is not None else (vectors.shape[1] if vectors.ndim == 2 else 0)
    new = NewRows([ids[i] for i in order],
                  [record_from_metadata(metas[i], texts[i]) for i in order],
                  vectors[order] if order else vectors.reshape(0, width),
                  manifest_from_metadata(metas))
    built = derive(empty(name, fingerprint, width), name, set(), new, seq, collection)
    built.history = SaveHistory()
    return built


__all__ = ["ALIVE", "ArticleEntry", "NewRows", "Snapshot", "assemble", "chunk_metadata",
           "article_texts", "derive", "empty", "record_metadata", "row_id"]
