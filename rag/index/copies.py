"""Syndicated and near-identical articles: MinHash sketches of each article's five-word
shingles, LSH banding to find candidate pairs (datasketch), and the pairs whose estimated
resemblance passes the threshold joined into stories. No pair of full texts is ever compared.

A story is named by its smallest article id, so the grouping of a snapshot depends only on the
articles it holds."""

from __future__ import annotations

import re
import zlib

import numpy as np

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


def find_stories(texts: dict[str, str], threshold: float = NEAR_DUPLICATE_JACCARD) -> dict[str, str]:
    """article id -> story id, for the articles that have a near-identical copy (the others are
    their own story and left out)."""
    from datasketch import MinHash, MinHashLSH

    word_hashes: dict[str, int] = {}
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sketches: dict[str, MinHash] = {}
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for article_id in sorted(texts):
        hashes = _shingle_hashes(texts[article_id], word_hashes)
        if hashes.size == 0:
            continue
        sketch = MinHash(num_perm=NUM_PERM, hashfunc=_identity)
        sketch.update_batch(hashes)
        for other in lsh.query(sketch):
            if sketch.jaccard(sketches[other]) >= threshold:
                a, b = root(article_id), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(article_id, sketch)
        sketches[article_id] = sketch
    stories = {article_id: root(article_id) for article_id in parent}
    for story in set(stories.values()):
        stories[story] = story
    return stories
