"""What a rebuild will do, decided before it does anything: which articles are kept with their
vectors, which are (re)embedded, which moved to another file, which go, and whether the index is
written whole into a new collection or updated in place. A pure function of the scanned
articles, the serving snapshot's articles and its pointer."""

from __future__ import annotations

from dataclasses import dataclass

from rag.index import REWRITE_SHARE
from rag.index.store import Pointer
from rag.ingest.file_cache import ArticleState

# Compaction: a whole build into a fresh collection once the rows ever deleted from the
# collection reach REWRITE_SHARE of its live rows (and at least this many).
COMPACT_MIN_ROWS = 1000


@dataclass(frozen=True)
class BuildPlan:
    kept: list[ArticleState]  # same cleaned text, same pipeline: carried with their vectors
    changed: list[ArticleState]  # new or edited (or a new pipeline): cleaned and embedded
    moved: list[ArticleState]  # kept, but now in another file: cited from the new one
    removed: frozenset[str]  # indexed, and no longer in the seeds
    indexed: int  # articles the serving snapshot holds
    whole: bool  # a new collection (new index, embedder or chunking; compaction), not in place

    @property
    def changes_anything(self) -> bool:
        return self.indexed == 0 or bool(self.changed or self.removed or self.moved)


def plan_build(articles: list[ArticleState], indexed: dict | None, live_rows: int,
               pointer: Pointer | None, fingerprint: str) -> BuildPlan:
    """`indexed`: the serving snapshot's articles (id -> entry with `sha256` and `source`; None
    when there is no index) and `live_rows` its rows; `fingerprint`: this build's pipeline
    (embedder, chunking)."""
    indexed = indexed or {}
    same_pipeline = pointer is not None and pointer.fingerprint == fingerprint
    old = indexed if same_pipeline else {}
    kept = [a for a in articles if a.id in old and old[a.id].sha256 == a.sha256]
    changed = [a for a in articles if not (a.id in old and old[a.id].sha256 == a.sha256)]
    # The content hash leaves the file out: an article moved to another file keeps its vectors
    # but the snapshot must change so that it is cited from its new file.
    moved = [a for a in kept if old[a.id].source != a.source]
    removed = frozenset(indexed) - {a.id for a in articles}
    return BuildPlan(kept, changed, moved, removed, len(indexed),
                     whole_build_due(pointer, bool(indexed), live_rows, fingerprint))


def whole_build_due(pointer: Pointer | None, has_index: bool, live_rows: int, fingerprint: str) -> bool:
    if pointer is None or not has_index or pointer.fingerprint != fingerprint or pointer.seq == 0:
        return True  # nothing to add to, another vector space, or rows without snapshot tags
    return pointer.deleted_rows >= max(COMPACT_MIN_ROWS, REWRITE_SHARE * live_rows)
