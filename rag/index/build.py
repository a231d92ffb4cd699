"""Incremental rebuild: seeds → cleaned articles → chunks → vectors → a new snapshot → pointer.

New articles are added, changed ones re-embedded, removed ones dropped, in place in the serving
collection (rag.index.inplace): an update costs what changed. A whole build into a new collection
happens for a new index, a new embedder or chunking, an index from before in-place updates, and
for compaction once deleted rows outnumber a quarter of the live ones (rag.index.plan decides
which, before anything is written). The pointer moves only once
the new snapshot is complete, so a failed or killed rebuild leaves the previous index serving."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rag.index import embed_pool, inplace, prepare, rows, snapshot as snap, snapshot_files as files
from rag.ingest.loading import FOLDED
from rag.config import Settings
from rag.errors import (RebuildInProgress, RemovalNeedsConfirmation, SeedsUnavailable,
                        StoreUnavailable)
from rag.index.embedding import Embedder, embedder_name, get_embedder
from rag.index.row_sink import RowSink
from rag.index.store import Pointer, Store, collection_missing

log = logging.getLogger(__name__)
PIPELINE_VERSION = 1
# A rebuild that would leave fewer than this share of the indexed articles (or none) stops
# unless confirmed: a mistyped path, an unmounted volume or a sync that has not run yet all look
# like a folder whose articles were deleted.
MASS_REMOVAL_SHARE = 0.5

Progress = Callable[[str, int, int], None]


@dataclass
class BuildSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[dict] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    snapshot: str | None = None
    changed: bool = False
    in_place: bool = False  # added to the serving collection (False: a whole build)
    unsafe_urls: int = 0  # non-http(s) URLs taken off articles that were kept

    def line(self) -> str:
        reasons: dict[str, int] = {}
        for skip in self.skipped:
            # A fold of repeated records is named once per article: it counts as one reason.
            reason = FOLDED if skip["reason"].startswith("same title and text as") else skip["reason"]
            reasons[reason] = reasons.get(reason, 0) + skip.get("count", 1)
        skipped = f"{sum(reasons.values()):,} skipped" + (
            " (" + "; ".join(f"{n:,}× {r}" for r, n in sorted(reasons.items())) + ")" if reasons else ""
        )
        if self.unsafe_urls:
            skipped += f", {self.unsafe_urls} unsafe URL{'s' if self.unsafe_urls != 1 else ''} removed"
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged, {skipped}; {self.articles} articles, "
                f"{self.chunks} chunks in {self.seconds:.1f}s")

    def as_dict(self) -> dict:
        return asdict(self)


def fingerprint(settings: Settings, embedder: Embedder | None = None) -> str:
    """Identifies the vector space and chunking: an index built otherwise is re-embedded."""
    name = embedder.name if embedder is not None else embedder_name(settings)
    return (f"{name}|chunks={settings.chunk_size}/{settings.chunk_overlap}"
            f"|v{PIPELINE_VERSION}")


def fingerprint_embedder(fp: str) -> str:
    """The embedder named in a fingerprint: the vector space an index was built in."""
    return fp.split("|", 1)[0]


@contextmanager
def rebuild_lock(index_dir: Path):
    """One rebuild at a time per index folder, across processes. The kernel drops the lock when
    its holder dies, so a killed rebuild never blocks the next one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / "rebuild.lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RebuildInProgress("another rebuild of this index is running") from exc
        yield
    finally:
        handle.close()


def rebuild(settings: Settings, seeds: Path | None = None, progress: Progress | None = None,
            show_bar: bool = False, store: Store | None = None,
            embedder: Embedder | None = None, confirm_removal: bool = False,
            changed: list[str] | None = None) -> BuildSummary:
    """`store` and `embedder` default to the ones the settings name."""
    return build(settings, seeds, progress, show_bar, store, embedder,
                 confirm_removal=confirm_removal, changed=changed)[0]


def check_seeds(seeds: Path) -> None:
    """SeedsUnavailable unless `seeds` is a folder that can be listed or a file that can be read:
    anything else would read as "every article was deleted"."""
    try:
        mode = os.stat(seeds).st_mode
        if stat.S_ISDIR(mode):
            with os.scandir(seeds) as listing:
                next(listing, None)
        elif stat.S_ISREG(mode):
            with open(seeds, "rb") as handle:
                handle.read(1)
        else:
            raise SeedsUnavailable(f"the seeds path {seeds} is neither a folder nor an article file; "
                                   "nothing was removed from the index")
    except FileNotFoundError:
        raise SeedsUnavailable(f"the seeds folder {seeds} does not exist; nothing was removed "
                               "from the index (check the path, or RAG_SEEDS_DIR)") from None
    except OSError as exc:
        raise SeedsUnavailable(f"the seeds folder {seeds} cannot be read ({exc.strerror or exc}); "
                               "nothing was removed from the index") from None


def check_removal(removed: int, indexed: int, remaining: int, seeds: Path, confirmed: bool) -> None:
    """RemovalNeedsConfirmation when a rebuild would remove articles and leave none of the
    `indexed` ones, or fewer than MASS_REMOVAL_SHARE of them (`remaining`: the articles the
    rebuild would index, so a renamed file, whose articles come back under new ids, passes),
    unless the caller confirmed it."""
    if confirmed or not removed or not indexed:
        return
    if remaining == 0 or remaining < MASS_REMOVAL_SHARE * indexed:
        what = "every article" if remaining == 0 else f"{removed:,} of the {indexed:,} articles"
        raise RemovalNeedsConfirmation(
            f"this rebuild would remove {what} in the index and leave {remaining:,} ({seeds} "
            "no longer holds their files); nothing was changed. If that is intended, confirm "
            "it: `rag index --confirm-removal`, {\"confirm_removal\": true} in POST "
            "/api/index/rebuild, or \"Allow removing most articles\" in the web chat")


def build(settings: Settings, seeds: Path | None = None, progress: Progress | None = None,
          show_bar: bool = False, store: Store | None = None, embedder: Embedder | None = None,
          serving: snap.Snapshot | None = None, confirm_removal: bool = False,
          changed: list[str] | None = None) -> tuple[BuildSummary, snap.Snapshot | None]:
    """The summary and the snapshot that serves now. `serving`: the snapshot a server holds in
    memory, which the update derives from instead of reading it again. `confirm_removal`: go on
    even when the rebuild would remove most of the index (check_removal). `changed`: the files
    that changed (paths in the seeds folder, or relative to it), when the caller knows them:
    only those are read, unless the update needs the whole folder (rag.index.prepare)."""
    started = time.perf_counter()
    seeds = Path(seeds or settings.seeds_dir)
    check_seeds(seeds)
    with rebuild_lock(settings.index_dir):
        summary, built = _rebuild_locked(settings, seeds, progress, show_bar,
                                         store or Store(settings),
                                         embedder or get_embedder(settings), started, serving,
                                         confirm_removal, changed)
    summary.seconds = time.perf_counter() - started
    return summary, built


def _rebuild_locked(settings: Settings, seeds: Path, progress: Progress | None, show_bar: bool,
                    store: Store, embedder: Embedder, started: float,
                    serving: snap.Snapshot | None, confirm_removal: bool,
                    changed: list[str] | None) -> tuple[BuildSummary, snap.Snapshot | None]:
    report = progress or (lambda stage, done, total: None)
    summary = BuildSummary()
    report("reading articles", 0, 0)
    pointer = store.current()
    fp = fingerprint(settings, embedder)
    previous = _load_serving(settings, store, pointer, serving)
    prepared = None
    if changed is not None:
        prepared = prepare.named_files(seeds, settings.index_dir, changed, pointer, fp, previous)
    if prepared is None:
        prepared = prepare.whole_folder(seeds, settings.index_dir, pointer, fp, previous)
    scan, plan, digest = prepared.scan, prepared.plan, prepared.digest
    summary.skipped = prepared.skipped
    summary.unsafe_urls = scan.unsafe_urls
    if prepared.unchanged:
        if pointer.summary.get("scan_mark") != scan.mark:
            # The cache was scanned again: an update naming its files can start from it.
            store.set_current(Pointer(**{**vars(pointer),
                                         "summary": {**pointer.summary, "scan_mark": scan.mark}}))
        return _unchanged(summary, previous), previous

    check_removal(len(plan.removed), plan.indexed, prepared.remaining, seeds, confirm_removal)
    report("cleaning", 0, len(plan.changed))
    to_embed = scan.cleaned_articles(plan.changed)
    scan.cleaned.clear()  # the texts live in to_embed alone now: a whole build lets them go as it goes
    indexed = previous.articles if previous is not None else {}
    summary.added = sum(1 for a in to_embed if a.id not in indexed)
    summary.updated = len(to_embed) - summary.added
    summary.removed = len(plan.removed)
    summary.unchanged = len(plan.kept) + plan.untouched
    summary.changed = previous is None or bool(to_embed or plan.removed or plan.moved)
    raw_hashes = prepared.raw_hashes
    pointer_summary = {"raw_hashes_digest": digest, "files_read": scan.read_files,
                       "scan_mark": scan.mark}

    if not summary.changed:
        # Files were touched but their cleaned articles are the same: keep the snapshot.
        pointer_summary["line"] = pointer.summary.get("line", "")
        store.set_current(Pointer(**{**vars(pointer), "summary": pointer_summary}))
        return _unchanged(summary, previous), previous

    whole = plan.whole
    if whole:
        built, deleted = _write_whole(settings, store, embedder, fp, previous, plan.kept, to_embed,
                                      raw_hashes, report, show_bar,
                                      seq=(pointer.seq if pointer else 0) + 1), 0
        carried_rows = sum(previous.articles[a.id].chunks for a in plan.kept)
    else:
        built, deleted = _update_in_place(settings, store, embedder, pointer, previous, to_embed,
                                          plan.moved, set(plan.removed), raw_hashes, report, show_bar)
        carried_rows = built.history.kept_rows + sum(previous.articles[a.id].chunks for a in plan.moved)
    summary.in_place = not whole
    summary.articles, summary.chunks, summary.snapshot = len(built.articles), len(built), built.name
    summary.embedded_chunks = len(built) - carried_rows
    summary.seconds = time.perf_counter() - started
    pointer_summary["line"] = summary.line()
    store.set_current(Pointer(
        snapshot=built.name, built_at=time.time(), fingerprint=fp, articles=summary.articles,
        chunks=summary.chunks, summary=pointer_summary, collection=built.collection_name,
        seq=built.seq, deleted_rows=0 if whole else pointer.deleted_rows + deleted))
    _update_marker(settings).unlink(missing_ok=True)
    _collect_garbage(store, settings.index_dir, built=(built.name, built.collection_name),
                     serving=pointer)
    return summary, built


@contextmanager
def _bulk(settings: Settings, embedder: Embedder, articles: list):
    """The embedder for these articles: a pool of processes for a large rebuild with the
    bundled model where there are cores for several (rag/index/embed_pool.py)."""
    workers = embed_pool.workers_for(settings)
    if (workers < 2 or _chunks_about(articles, settings) < embed_pool.MIN_TEXTS or settings.embed_base_url
            or embedder.name != embedder_name(settings)):
        yield embedder
        return
    pool = embed_pool.EmbedderPool(settings, embedder, workers)
    try:
        yield pool
    finally:
        pool.close()


def _chunks_about(articles: list, settings: Settings) -> int:
    # Chunks are cut while the first ones embed; about four characters make a token.
    step = max(settings.chunk_size - settings.chunk_overlap, 1) * 4
    return sum(len(a.text) // step + 1 for a in articles)


def _update_marker(settings: Settings) -> Path:
    return settings.index_dir / "update-in-progress"


def _load_serving(settings: Settings, store: Store, pointer: Pointer | None,
                  serving: snap.Snapshot | None = None) -> snap.Snapshot | None:
    """The serving snapshot, whose unchanged articles are carried rather than embedded again.

    Only a collection that Chroma says no longer exists (deleted by hand) means building from
    scratch. Any other failure, a timeout or a dropped connection, stops the rebuild: going on
    as if the index were empty would re-embed everything for nothing, and garbage collection
    would then drop the snapshot that is still serving."""
    if pointer is None:
        return None
    if serving is not None and serving.name == pointer.snapshot:
        return serving
    try:
        return files.load(settings.index_dir, pointer.snapshot, pointer.fingerprint,
                          store.collection, pointer.seq, pointer.collection, have=serving)
    except Exception as exc:
        if collection_missing(exc):
            log.warning("index snapshot %s no longer exists (%s); rebuilding all",
                        pointer.snapshot, exc)
            return None
        raise StoreUnavailable(
            f"the rebuild stopped: the serving index snapshot {pointer.snapshot} could not be read "
            f"({type(exc).__name__}: {exc}); the previous index is unchanged and still serving"
        ) from exc


def _unchanged(summary: BuildSummary, previous: snap.Snapshot) -> BuildSummary:
    summary.unchanged = len(previous.articles)
    summary.articles, summary.chunks = len(previous.articles), len(previous)
    summary.snapshot = previous.name
    return summary


def _update_in_place(settings, store, embedder, pointer, previous, to_embed, moved, removed,
                     raw_hashes, report, show_bar) -> tuple[snap.Snapshot, int]:
    seq = pointer.seq + 1
    collection = store.collection(pointer.collection_name)
    report("tidying the collection", 0, 0)
    marker = _update_marker(settings)
    deleted = inplace.tidy(collection, pointer.seq, previous.dead_ids, marker.exists())
    # Says that the collection may hold rows of an update that did not finish, until the pointer
    # has moved (then they are the new snapshot's).
    marker.write_text(str(seq))
    name = store.new_snapshot_name()
    try:
        with _bulk(settings, embedder, to_embed) as bulk:
            fresh = rows.embed_and_add(bulk, to_embed, settings, raw_hashes, seq, collection, report,
                                       show_bar, previous.vectors.shape[1] if len(previous) else None)
        moved_chunks, moved_vectors = rows.carried(previous, moved, raw_hashes, seq)
        moved_ids, moved_metas, moved_records = rows.new_rows(moved_chunks, raw_hashes, seq)
        rows.add(collection, moved_ids, moved_vectors, [c.text for c in moved_chunks], moved_metas)
        dropping = removed | {a.id for a in to_embed if a.id in previous.articles} | {a.id for a in moved}
        report("marking removed rows", 0, len(dropping))
        dead_ids = inplace.mark_dead(collection, previous, dropping, seq)
        report("deriving the snapshot", 0, 0)
        width = previous.vectors.shape[1] if len(previous) else embedder.dimension
        new = snap.NewRows(fresh.ids + moved_ids, fresh.records + moved_records,
                           np.concatenate([v.reshape(-1, width) for v in (fresh.vectors, moved_vectors)]),
                           snap.manifest_from_metadata(fresh.metas + moved_metas))
        built = snap.derive(previous, name, dropping, new, seq, pointer.collection_name,
                            dead_ids=dead_ids)
        report("saving", 0, 0)
        files.save(built, settings.index_dir)
        return built, deleted
    except BaseException:
        inplace.undo(collection, seq)
        shutil.rmtree(files.folder(settings.index_dir, name), ignore_errors=True)
        raise


def _write_whole(settings, store, embedder, fp, previous, kept, to_embed, raw_hashes, report,
                 show_bar, seq: int) -> snap.Snapshot:
    """A complete new snapshot in a new collection and in the local cache; removed again on any
    failure. The rows are indexed as they come (rag.index.row_sink), not held until the end."""
    name = store.new_snapshot_name()
    collection = store.create_collection(name)
    rows_folder = files.folder(settings.index_dir, name + ".rows")
    sink = None
    try:
        sink = RowSink(rows_folder / "chunks.jsonl")
        ids, metas, texts, copied = rows.copy_unchanged(previous, kept, raw_hashes, collection,
                                                    report, seq)
        width = copied.shape[1] if copied is not None else None
        if ids:
            sink.add(ids, metas, [snap.record_from_metadata(m, t) for m, t in zip(metas, texts)],
                     copied)
        del ids, metas, texts, copied
        with _bulk(settings, embedder, to_embed) as bulk:
            fresh = rows.embed_and_add(bulk, to_embed, settings, raw_hashes, seq, collection, report,
                                       show_bar, width, sink=sink)
        # An empty snapshot still has vectors of the model's width, for whoever adds to it.
        width = fresh.width or width or embedder.dimension
        report("building BM25", 0, len(sink.ids))
        built = snap.derive(snap.empty(name, fp, width), name, set(), sink.finish(width), seq, name)
        built.history = snap.SaveHistory()
        built.dead_ids = []  # a new collection: nothing removed yet
        files.save(built, settings.index_dir)
        return built
    except BaseException:
        store.drop(name)
        shutil.rmtree(files.folder(settings.index_dir, name), ignore_errors=True)
        raise
    finally:
        # Saved: the records are read from the snapshot's own folder now (or the build failed).
        if sink is not None:
            sink.close()
        shutil.rmtree(rows_folder, ignore_errors=True)


def _collect_garbage(store: Store, index_dir: Path, built: tuple[str, str],
                     serving: Pointer | None) -> None:
    """Drop collections and cache folders that no longer serve: all but the new snapshot's, the
    one serving when the rebuild started (a reader may still be finishing a request on it) and
    the one the pointer names now (another machine's rebuild against the same Chroma server may
    have moved it), with the folders their saved deltas rest on. Orphans of killed rebuilds go
    too."""
    try:
        current = store.current()
        names = store.collections()
    except Exception as exc:  # housekeeping only: the next rebuild collects them
        log.warning("garbage collection skipped: the store could not be read (%s)", exc)
        return
    pointers = [p for p in (serving, current) if p is not None]
    snapshot, collection = built
    keep_collections = {collection} | {p.collection_name for p in pointers}
    for name in names:
        if name not in keep_collections:
            store.drop(name)
    keep_folders = set()
    for name in [snapshot] + [p.snapshot for p in pointers]:
        keep_folders.update(files.chain(index_dir, name))
    for root in files.CACHE_ROOTS:
        if (index_dir / root).is_dir():
            for path in (index_dir / root).iterdir():
                if path.name not in keep_folders:
                    shutil.rmtree(path, ignore_errors=True)
