"""The local cache of snapshots: `index/snapshots/<name>/`, one folder per snapshot.

A snapshot derived from another is saved as what it changed: the articles it dropped and the
rows, term counts, sketches and manifest entries it added, over the folder of the one before.
Loading follows that chain back to a whole save and derives forward, or stops early at a snapshot
the caller already holds in memory (a server that followed the pointer applies one delta). Every
`MAX_CHAIN` deltas, or when the deltas add up to a quarter of the rows, the snapshot is saved
whole again, so loading stays bounded and old folders can go."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
from scipy import sparse

from rag.index import REWRITE_SHARE
from rag.index.lexical import Bm25Index
from rag.index.row_blocks import NpyRows, RowBlocks, save_npy
from rag.index.records import Records, read_columns, scan_jsonl, write_jsonl
from rag.index.rows_filter import RowFilter
from rag.index.snapshot import (ALIVE, ArticleEntry, NewRows, SaveHistory, Snapshot, assemble, derive,
                                empty)

MAX_CHAIN = 8
# The fields of every row that deriving a snapshot reads (rag.index.snapshot.NewRows.columns).
ROW_FIELDS = ("article_id", "published", "source")
CACHE_ROOTS = ("snapshots", "generations")  # "generations": indexes built before the rename


def folder(index_dir: Path, name: str) -> Path:
    return index_dir / CACHE_ROOTS[0] / name


def _cached_folder(index_dir: Path, name: str) -> Path:
    for root in CACHE_ROOTS:
        if (index_dir / root / name / "info.json").exists():
            return index_dir / root / name
    return folder(index_dir, name)


def _info(index_dir: Path, name: str) -> dict | None:
    try:
        return json.loads((_cached_folder(index_dir, name) / "info.json").read_text())
    except (OSError, ValueError):
        return None


def chain(index_dir: Path, name: str) -> list[str]:
    """The snapshot's folder and the folders its delta rests on, newest first."""
    names = []
    while name and name not in names:
        names.append(name)
        info = _info(index_dir, name) or {}
        name = info.get("base")
    return names


def _whole(snapshot: Snapshot, index_dir: Path) -> bool:
    history = snapshot.history
    if history.base is None or history.chain >= MAX_CHAIN:
        return True
    if _info(index_dir, history.base) is None:
        return True
    added = len(snapshot) - history.kept_rows
    return added + history.removed_rows > REWRITE_SHARE * max(len(snapshot), 1) and history.chain > 1


def _local_counts(index: Bm25Index, start: int) -> tuple[list[str], sparse.csr_matrix]:
    """Rows from `start` on, with their own list of terms (columns are this process's)."""
    rows = index.rows(start)
    used = np.unique(rows.indices)
    local = sparse.csr_matrix((rows.data, np.searchsorted(used, rows.indices), rows.indptr),
                              shape=(rows.shape[0], len(used)))
    return [index.vocab.terms[c] for c in used], local


def _save_counts(path: Path, counts: tuple[list[str], sparse.csr_matrix]) -> None:
    terms, matrix = counts
    # Uncompressed: zlib took 16 s of a whole save of a million articles, for a file read once.
    sparse.save_npz(path / "counts.npz", matrix, compressed=False)
    (path / "terms.json").write_text(json.dumps(terms, ensure_ascii=False))


def _load_counts(path: Path) -> tuple[list[str], sparse.csr_matrix]:
    return json.loads((path / "terms.json").read_text()), sparse.load_npz(path / "counts.npz").tocsr()


def save(snapshot: Snapshot, index_dir: Path) -> Path:
    """Write the folder whole or not at all (temporary folder, then rename)."""
    whole = _whole(snapshot, index_dir)
    history = snapshot.history
    rows, articles = (0, 0) if whole else (history.kept_rows, history.kept_articles)
    target = folder(index_dir, snapshot.name)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = write_jsonl(tmp / "chunks.jsonl", snapshot.ids[rows:], snapshot.records[rows:],
                          ROW_FIELDS)
    save_npy(tmp / "vectors.npy", RowBlocks.of(snapshot.vectors).take(np.arange(rows, len(snapshot))))
    for name, index, start in (("bm25", snapshot.bm25, rows),
                               ("article_bm25", snapshot.article_bm25, articles)):
        (tmp / name).mkdir()
        _save_counts(tmp / name, _local_counts(index, start))
    new_articles = snapshot.article_order[articles:]
    added = np.arange(articles, len(snapshot.article_order))
    save_npy(tmp / "sketches.npy", RowBlocks.of(snapshot.sketches).take(added))
    (tmp / "stories.json").write_text(json.dumps(snapshot.stories))
    _write_manifest(tmp / "articles.json", snapshot.articles, new_articles)
    (tmp / "info.json").write_text(json.dumps({
        "fingerprint": snapshot.fingerprint, "seq": snapshot.seq,
        "collection": snapshot.collection, "foreign_rows": snapshot.foreign_rows,
        "dead_ids": snapshot.dead_ids,
        "base": None if whole else history.base, "removed": [] if whole else history.removed,
        "chain": 0 if whole else history.chain, "width": int(snapshot.vectors.shape[1]),
    }))
    _fsync_tree(tmp)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    # From now on the saved rows are read from the files (open or mapped, they outlive the rename).
    for record_file in written.files:
        record_file.path = target / "chunks.jsonl"
    snapshot.records = Records.join([snapshot.records[:rows], written])
    snapshot.vectors = RowBlocks.join([RowBlocks.of(snapshot.vectors).take(np.arange(rows)),
                                       NpyRows(target / "vectors.npy")])
    snapshot.sketches = RowBlocks.join([RowBlocks.of(snapshot.sketches).take(np.arange(articles)),
                                        np.load(target / "sketches.npy", mmap_mode="r")])
    if whole:
        # The next delta counts from this whole save; the rest stays for the build's summary.
        snapshot.history.chain = 0
    return target


def _write_manifest(path: Path, articles: dict, ids) -> None:
    """The JSON object id -> entry, written an entry at a time: encoding the manifest of a build
    of 200,000 articles whole took 200 MB (its dicts and its text), the build's peak."""
    # The fields read off each entry: dataclasses.asdict deep-copies every value, 38 of the 48 s
    # that writing a million entries took.
    names = [f.name for f in fields(ArticleEntry)]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("{")
        for number, aid in enumerate(ids):
            entry = articles[aid]
            fh.write("," if number else "")
            fh.write(f"{encode(aid)}: {encode({name: getattr(entry, name) for name in names})}")
        fh.write("}")


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())


def load_cached(index_dir: Path, name: str, have: Snapshot | None = None) -> Snapshot | None:
    """The cached snapshot (None when it or a folder it rests on is missing or damaged);
    `have`: a snapshot in memory that the chain may rest on."""
    names = []
    for link in chain(index_dir, name):
        names.append(link)
        if have is not None and link == have.name:
            break
    try:
        snapshot = have if have is not None and names[-1] == have.name else None
        for link in reversed(names):
            if snapshot is not None and link == snapshot.name:
                continue
            snapshot = _apply(index_dir, link, snapshot)
            if snapshot is None:
                return None
        return snapshot
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged or older cache is re-derived from Chroma


def _apply(index_dir: Path, name: str, base: Snapshot | None) -> Snapshot | None:
    path = _cached_folder(index_dir, name)
    info = json.loads((path / "info.json").read_text())
    if info.get("base") and (base is None or base.name != info["base"]):
        return None
    if "width" not in info or not (path / "sketches.npy").exists():
        return None  # a cache written before in-place updates: derive it from Chroma again
    ids, records, columns = (read_columns(path, ROW_FIELDS)
                             or scan_jsonl(path / "chunks.jsonl", ROW_FIELDS))
    manifest = json.loads((path / "articles.json").read_text())
    new = NewRows(ids, records, RowBlocks.of(NpyRows(path / "vectors.npy")),
                  {aid: ArticleEntry(**{**entry, "id": aid}) for aid, entry in manifest.items()},
                  _load_counts(path / "bm25"), _load_counts(path / "article_bm25"),
                  np.load(path / "sketches.npy", mmap_mode="r"), columns)
    stories = json.loads((path / "stories.json").read_text())
    start = base if info.get("base") else empty(name, info["fingerprint"], info["width"])
    built = derive(start, name, set(info.get("removed", [])), new, info.get("seq", 0),
                   info.get("collection"), info.get("dead_ids"), stories)
    built.foreign_rows = info.get("foreign_rows", 0)
    built.fingerprint = info["fingerprint"]
    built.history.chain = info.get("chain", 0)
    if not info.get("base"):
        built.history = SaveHistory()
    return built


def load_from_collection(collection, name: str, fingerprint: str, seq: int = 0,
                         batch: int = 2000) -> Snapshot:
    """The snapshot's rows as the store holds them: those born by it and not dead by it."""
    where = RowFilter(born_at_most=seq, died_after=seq) if seq else None
    ids, metas, texts, vectors = [], [], [], []
    offset = 0
    while True:
        got = collection.rows(where, limit=batch, offset=offset, vectors=True)
        ids.extend(got.ids)
        metas.extend(got.metadatas)
        texts.extend(got.documents)
        vectors.extend(got.vectors)
        offset += batch
        if len(got.ids) < batch:
            break
    foreign = collection.count() - len(ids)
    built = assemble(name, fingerprint, ids, metas, texts, np.array(vectors), seq,
                     collection.name if seq else None)
    built.foreign_rows = max(foreign, 0)
    return built


def load(index_dir: Path, name: str, fingerprint: str, collection_factory, seq: int = 0,
         collection: str | None = None, have: Snapshot | None = None) -> Snapshot:
    """The cached snapshot, or one derived from Chroma and then cached. `collection` and `seq`:
    the pointer's, which name where its rows are (a cache copied from elsewhere may not)."""
    cached = load_cached(index_dir, name, have)
    if cached is not None:
        cached.collection, cached.seq = collection, seq
        return cached
    snapshot = load_from_collection(collection_factory(collection or name), name, fingerprint, seq)
    snapshot.name = name
    try:
        save(snapshot, index_dir)
    except OSError:
        pass  # a read-only or full disk only costs the cache, not the answer
    return snapshot


__all__ = ["ALIVE", "CACHE_ROOTS", "chain", "folder", "load", "load_cached", "save"]
