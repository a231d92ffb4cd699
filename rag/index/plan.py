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
    # Indexed articles outside the files scanned (an update of named files), carried as they are.
    untouched: int = 0

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
    kept, changed, moved = _compare(articles, indexed if same_pipeline else {})
    removed = frozenset(indexed) - {a.id for a in articles}
    return BuildPlan(kept, changed, moved, removed, len(indexed),
                     whole_build_due(pointer, bool(indexed), live_rows, fingerprint))


def plan_named(articles: list[ArticleState], held_before: set[str], indexed: dict) -> BuildPlan:
    """The plan of an update in place that scanned named files only (rag.ingest.changed_files):
    `articles`, what they hold now; `held_before`, the ids they held at the last scan; `indexed`,
    the serving snapshot's articles, in this build's pipeline. Every other indexed article is
    carried untouched."""
    kept, changed, moved = _compare(articles, indexed)
    removed = frozenset(i for i in held_before if i in indexed) - {a.id for a in articles}
    touched = len(removed) + sum(1 for a in articles if a.id in indexed)
    return BuildPlan(kept, changed, moved, removed, len(indexed), False,
                     untouched=len(indexed) - touched)


def _compare(articles: list[ArticleState], old: dict):
    kept = [a for a in articles if a.id in old and old[a.id].sha256 == a.sha256]
    changed = [a for a in articles if not (a.id in old and old[a.id].sha256 == a.sha256)]
    # The content hash leaves the file out: an article moved to another file keeps its vectors
    # but the snapshot must change so that it is cited from its new file.
    moved = [a for a in kept if old[a.id].source != a.source]
    return kept, changed, moved


def whole_build_due(pointer: Pointer | None, has_index: bool, live_rows: int, fingerprint: str) -> bool:
    if pointer is None or not has_index or pointer.fingerprint != fingerprint or pointer.seq == 0:
        return True  # nothing to add to, another vector space, or rows without snapshot tags
    return pointer.deleted_rows >= max(COMPACT_MIN_ROWS, REWRITE_SHARE * live_rows)
