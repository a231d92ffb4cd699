"""Changes to the serving collection in place: rows added tagged with the snapshot that adds them,
rows removed first marked dead by it and deleted one update later, and the leftovers of an update
that was killed put right before the next one starts.

Readers of the serving snapshot never see these rows change under them: their snapshot is the
rows born by it and not dead by it, and dense search keeps only rows it holds."""

from __future__ import annotations

import logging

from rag.index.rows_filter import RowFilter
from rag.index.snapshot import ALIVE, Snapshot, record_metadata
from rag.index.store import Collection

log = logging.getLogger(__name__)
BATCH = 1000


def _delete(collection: Collection, ids: list[str]) -> None:
    for start in range(0, len(ids), BATCH):
        collection.delete(ids[start:start + BATCH])


def _update(collection: Collection, ids: list[str], metas: list[dict]) -> None:
    for start in range(0, len(ids), BATCH):
        collection.update_metadata(ids[start:start + BATCH], metas[start:start + BATCH])


def tidy(collection, serving: int, dead_ids: list[str] | None = None,
         interrupted: bool = True) -> int:
    """Before an update on snapshot `serving`: rows dead by the serving snapshot (an update
    ago: no reader still needs them) are deleted, by id where the snapshot knows them; after an
    update that did not finish (`interrupted`), the rows it added are deleted and those it marked
    dead live again. Returns how many rows were deleted."""
    if not interrupted and dead_ids is not None:
        _delete(collection, dead_ids)
        return len(dead_ids)
    orphans = collection.ids(RowFilter(born_after=serving))
    _delete(collection, orphans)
    marked = collection.rows(RowFilter(died_after=serving, died_before=ALIVE))
    if marked.ids:
        log.warning("%d rows marked removed by an unfinished update are live again", len(marked.ids))
        _update(collection, marked.ids, [{**meta, "died": ALIVE} for meta in marked.metadatas])
    dead = collection.ids(RowFilter(died_at_most=serving))
    _delete(collection, dead)
    return len(orphans) + len(dead)


def mark_dead(collection, previous: Snapshot, articles: set[str], seq: int) -> list[str]:
    """Mark the rows of `articles` removed by snapshot `seq`; returns their ids."""
    ids, metas = [], []
    for article_id in sorted(articles & previous.first_row.keys()):
        entry = previous.articles[article_id]
        first = previous.first_row[article_id]  # an article's rows are contiguous
        for row in range(first, first + entry.chunks):
            ids.append(previous.ids[row])
            metas.append(record_metadata(previous.records[row], entry, entry.born, seq))
    _update(collection, ids, metas)
    return ids


def undo(collection, seq: int) -> None:
    """Best effort after a failed update: its rows out, its marks off (the next update's `tidy`
    does it if this cannot)."""
    try:
        tidy(collection, seq - 1)
    except Exception as exc:  # the store itself failed: tidy runs again before the next update
        log.warning("could not undo the failed update's rows now (%s); the next update will", exc)
