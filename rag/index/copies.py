"""Syndicated and near-identical articles: MinHash sketches of each article's five-word
shingles (datasketch), LSH banding to find candidate pairs, and the pairs whose estimated
resemblance passes the threshold joined into stories. No pair of full texts is ever compared.

Each article's sketch is kept with the snapshot, so an update sketches only the articles it adds
and regroups only the stories it touches. A story is named by its smallest article id, so the
grouping of a snapshot depends only on the articles it holds, not on the order they came in."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

from rag.index.row_blocks import RowBlocks

SHINGLE_WORDS = 5
NUM_PERM = 128
# Five-word shingles: a copy with a few words changed in a 400-word article keeps about 0.9 of
# them; two reports of the same event in their own words keep well under 0.3.
NEAR_DUPLICATE_JACCARD = 0.8
_WORD = re.compile(r"\w+")
_MASK32 = np.uint64(0xFFFFFFFF)


def _shingle_hashes(text: str, word_hashes: dict[str, int]) -> np.ndarray:
    """32-bit hashes of the text's distinct five-word shingles, computed in numpy from one hash
    per distinct word (a stable CRC32, unlike Python's salted `hash`)."""
    words = _WORD.findall(text.lower())
    if not words:
        return np.zeros(0, dtype=np.uint64)
    for word in set(words).difference(word_hashes):
        word_hashes[word] = zlib.crc32(word.encode())
    ids = np.array([word_hashes[w] for w in words], dtype=np.uint64)
    span = min(SHINGLE_WORDS, len(ids))
    combined = np.zeros(len(ids) - span + 1, dtype=np.uint64)
    for offset in range(span):  # polynomial mix of the words in each window, wrapping at 2**64
        combined = combined * np.uint64(1_000_003) + ids[offset: offset + len(combined)]
    return np.unique((combined ^ (combined >> np.uint64(29))) & _MASK32)


def _identity(value):
    return value


@lru_cache(maxsize=1)
def _bands() -> tuple[int, int]:
    from datasketch.lsh import _optimal_param

    return _optimal_param(NEAR_DUPLICATE_JACCARD, NUM_PERM, 0.5, 0.5)  # (bands, rows per band)


EMPTY = np.zeros((0, NUM_PERM), dtype=np.uint32)


def sketch_texts(texts: list[str]) -> np.ndarray:
    """One MinHash signature per text (rows of uint32); a text with no words gets all ones,
    which resembles nothing (no shingle hashes that high)."""
    from datasketch import MinHash

    word_hashes: dict[str, int] = {}
    out = np.full((len(texts), NUM_PERM), 0xFFFFFFFF, dtype=np.uint32)
    for row, text in enumerate(texts):
        hashes = _shingle_hashes(text, word_hashes)
        if hashes.size:
            sketch = MinHash(num_perm=NUM_PERM, hashfunc=_identity)
            sketch.update_batch(hashes)
            out[row] = sketch.hashvalues.astype(np.uint32)
    return out


# Sketches read at a time (32 MB): a saved block of a million articles is 512 MB.
SKETCH_ROWS = 65536


def _by_block(sketches, per_rows) -> np.ndarray:
    """`per_rows` of the sketches, block by block when they are RowBlocks: a build or an update
    of millions of articles reads its sketches without one array of them all."""
    if not isinstance(sketches, RowBlocks):
        return per_rows(sketches)
    parts = [per_rows(part) for part in sketches.parts(SKETCH_ROWS)]
    return np.concatenate(parts) if parts else per_rows(sketches.like)


def band_keys(sketches) -> np.ndarray:
    """The LSH band keys of every sketch (rows of uint64, one per band): kept by a process that
    updates, so that the next update keys only the sketches it adds."""
    return _by_block(sketches, _band_keys_of)


def _band_keys_of(sketches: np.ndarray) -> np.ndarray:
    """One key per band of each sketch: its `rows` values mixed together. Band b holds columns
    b*rows .. b*rows+rows-1; the columns at one offset of every band are taken at a time, so no
    64-bit copy of the sketches is made."""
    bands, rows = _bands()
    keys = np.zeros((len(sketches), bands), dtype=np.uint64)
    for offset in range(rows):  # wraps at 2**64, like the shingle mix
        keys *= np.uint64(0x100000001B3)
        keys += sketches[:, offset: bands * rows: rows].astype(np.uint64)
    return keys


def _blank(sketches) -> np.ndarray:
    return _by_block(sketches, lambda rows: (rows == 0xFFFFFFFF).all(axis=1))


def _neighbours(sketches, keys: np.ndarray, row: int, threshold: float,
                among: np.ndarray | None = None) -> np.ndarray:
    """Rows (of `among`, or of all) whose sketch is not blank, that share a band with `row` and
    resemble it enough: the candidates are found by their keys first, so that only theirs of the
    sketches are read. A blank sketch resembles nothing."""
    sketch = np.asarray(sketches[row])
    if (sketch == 0xFFFFFFFF).all():
        return np.zeros(0, dtype=np.int64)
    if among is None:
        candidates = np.flatnonzero((keys == keys[row]).any(axis=1))
    else:
        candidates = among[(keys[among] == keys[row]).any(axis=1)]
    candidates = candidates[candidates != row]
    if candidates.size == 0:
        return candidates
    found = np.asarray(sketches[candidates])
    alike = ~(found == 0xFFFFFFFF).all(axis=1) & ((found == sketch).mean(axis=1) >= threshold)
    return candidates[alike]


def _candidate_pairs(keys: np.ndarray, rows: np.ndarray):
    """Pairs of rows that share a band: per band, sort the keys and pair up the runs."""
    pairs = set()
    for band in range(keys.shape[1]):
        column = keys[rows, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        ends = np.r_[starts[1:], len(ordered)]
        for start, end in zip(starts, ends):
            if end - start > 1:
                run = rows[order[start:end]]
                pairs.update((int(a), int(b)) for i, a in enumerate(run) for b in run[i + 1:])
    return sorted(pairs)


def group_stories(ids: list[str], sketches: np.ndarray | RowBlocks,
                  stories: dict[str, str] | None = None, fresh: set[str] | None = None,
                  threshold: float = NEAR_DUPLICATE_JACCARD, row_of: dict[str, int] | None = None,
                  keys: np.ndarray | None = None) -> dict[str, str]:
    """article id -> story id, for the articles that have a near-identical copy (the others are
    their own story and left out).

    `ids` and `sketches` (an array, or RowBlocks read block by block) are the articles now held.
    With `stories` (the grouping before an update, which may name articles since removed) and
    `fresh` (the ids the update added), only the fresh articles are compared with all, and only
    stories that lost a member are regrouped. `row_of` (each id's row) and `keys` (band_keys of
    the sketches), when the caller has them already."""
    row_of = row_of if row_of is not None else dict(zip(ids, range(len(ids))))
    keys = keys if keys is not None else band_keys(sketches)
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    def join(a: str, b: str) -> None:
        a, b = root(a), root(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    if stories is None or fresh is None:
        for a, b in _candidate_pairs(keys, np.flatnonzero(~_blank(sketches))):
            if (sketches[a] == sketches[b]).mean() >= threshold:
                join(ids[a], ids[b])
    else:
        members: dict[str, list[str]] = {}
        for article_id, story in stories.items():
            members.setdefault(story, []).append(article_id)
        for group in members.values():
            held = [a for a in group if a in row_of and a not in fresh]
            if len(held) == len(group):  # untouched: still one story
                for article_id in held[1:]:
                    join(held[0], article_id)
            else:  # lost a member: the rest may have hung together through it
                rows = np.array([row_of[a] for a in held], dtype=np.int64)
                for row in rows:
                    for other in _neighbours(sketches, keys, row, threshold, among=rows):
                        join(ids[row], ids[other])
        for article_id in fresh:
            if article_id in row_of:
                for other in _neighbours(sketches, keys, row_of[article_id], threshold):
                    join(article_id, ids[other])
    grouped = {article_id: root(article_id) for article_id in parent}
    for story in set(grouped.values()):
        grouped[story] = story
    return grouped
