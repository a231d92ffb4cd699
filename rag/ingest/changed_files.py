"""A scan of named files only: an upload, a folder watcher or `rag index --changed` knows which
files changed, and an archive of a million files is then neither listed nor stat'ed whole (the
listing alone takes seconds there).

It gives what a scan of the whole folder would give for those files, or nothing: it returns None,
and the caller scans the whole folder, wherever the named files could change what another file
contributes. That is when an id or a text the named files hold, or held, is held by another file
too (which of two copies is kept depends on the files' order), when a short paragraph crosses
the repetition threshold (other files are cleaned again), when a named file is reached through
a symlink or is not a regular file, and when the cache is not the one the serving snapshot was
built from (a rebuild failed after its scan, or another process scanned since)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import BadRequest
from rag.ingest.file_cache import (ArticleState, FileCache, Scan, Unsettled, _decoded, _weighted_keys,
                                   in_batches)
from rag.ingest.loading import load_file, stamp_of



class BadChangedFile(BadRequest):
    """A named file that no scan of the seeds folder would ever read."""


@dataclass
class ChangedScan:
    scan: Scan  # the named files' articles, skips and unsafe URLs now, in the order named
    before: list[ArticleState] = field(default_factory=list)  # what the changed files held
    changed: list[str] = field(default_factory=list)  # named files that changed, or are gone


def source_of(seeds: Path, name: str) -> str:
    """The file's source (its path under the seeds folder, as citations name it) from a path
    under the folder or one relative to it; BadChangedFile for any other."""
    if "\0" in name:
        raise BadChangedFile("a file name holds a null character")
    root = os.path.abspath(seeds)
    path = os.path.normpath(name if os.path.isabs(name) else os.path.join(root, name))
    source = os.path.relpath(path, root)
    if source == "." or source.startswith(".." + os.sep) or source == "..":
        raise BadChangedFile(f"'{name}' is not a file in the seeds folder")
    if any(part.startswith(".") for part in source.split(os.sep)):
        raise BadChangedFile(f"'{name}' is hidden: files and folders whose names start with '.' "
                             "are never indexed")
    return source.replace(os.sep, "/")


def _stamp(root: str, source: str) -> str | None:
    """The file's stamp as a listing would give it; None when it is gone. Unsettled when a
    listing would see it otherwise (through a symlink, or not a regular file)."""
    path = os.path.join(root, source)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if os.path.realpath(os.path.dirname(path)) != os.path.dirname(path):
            raise Unsettled(f"{source}: its folder is reached through a symlink") from None
        return None
    except OSError as exc:  # a name too long, a folder that cannot be read: the listing decides
        raise Unsettled(f"{source}: {exc}") from None
    if not stat.S_ISREG(info.st_mode) or os.path.realpath(path) != path:
        raise Unsettled(f"{source}: not a regular file in a folder of the seeds")
    return stamp_of(info)


def _states_of(db, sources: list[str]) -> dict[str, tuple]:
    return {source: _decoded(data) for source, data in
            in_batches(db, "SELECT source, data FROM files WHERE source IN ({marks})", sources)}


def _unsettled_by_others(db, changed: set[str], before: list[ArticleState],
                         after: list[ArticleState]) -> str | None:
    """Why the changed files' articles bear on another file's, if they do. A file named but
    unchanged is another file: its articles are in neither list."""
    for states in (before, after):
        for field_name in ("id", "text_key"):
            values = [getattr(a, field_name) for a in states if getattr(a, field_name)]
            if len(set(values)) != len(values):
                return f"two of the named files' articles share an {field_name}"
    for field_name in ("id", "text_key"):
        values = sorted({getattr(a, field_name) for a in before + after if getattr(a, field_name)})
        rows = in_batches(db, f"SELECT source FROM articles WHERE {field_name} IN ({{marks}})", values)
        if any(source not in changed for (source,) in rows):
            return f"an {field_name} of theirs is held by another file too"
    return None


def scan_changed(seeds: Path, index_dir: Path, names: list[str], mark: str | None) -> ChangedScan | None:
    """The named files scanned, their states committed to the cache; None where only a scan of
    the whole folder gives the right result (see the module's doc). `mark`: the scan mark the
    serving snapshot was built from."""
    if not mark or not Path(seeds).is_dir():
        return None
    root = os.path.realpath(seeds)
    sources = list(dict.fromkeys(source_of(seeds, name) for name in names))
    cache = FileCache(index_dir / "files.sqlite", seeds)
    try:
        if cache._scan_mark() != mark:
            return None
        cache.ensure_article_table()
        try:
            present = {s: stamp for s in sources if (stamp := _stamp(root, s)) is not None}
        except Unsettled:
            return None
        cached = dict(in_batches(cache.db, "SELECT source, stamp FROM files WHERE source IN ({marks})",
                                  sources))
        scan = Scan(root=root, mark=mark)
        fresh = {s: (stamp, _weighted_keys(load_file(scan.path_of(s), s)))
                 for s, stamp in present.items() if cached.get(s) != stamp}
        scan.read_files = len(fresh)
        gone = [s for s in cached if s not in present or s in fresh]
        if not fresh and not gone:
            return ChangedScan(scan)
        before = [a for states, _, _ in _states_of(cache.db, gone).values() for a in states]
        cache._before = mark
        cache.db.execute("BEGIN")
        try:
            cache._update(scan, fresh, gone, cached, present, whole_folder=False)
            now = _states_of(cache.db, list(fresh))
            after = [a for source in sources if source in now for a in now[source][0]]
            if _unsettled_by_others(cache.db, set(fresh) | set(gone), before, after):
                raise Unsettled()
            cache._commit(scan)
        except Unsettled:
            cache.db.execute("ROLLBACK")
            return None
        except BaseException:
            cache.db.execute("ROLLBACK")
            raise
        cache._memo_moved(fresh, [s for s in gone if s not in fresh])
        for source in sources:
            if source in now:
                states, skipped, unsafe_urls = now[source]
                scan.articles.extend(states)
                scan.skipped.extend(skipped)
                scan.unsafe_urls += unsafe_urls
        return ChangedScan(scan, before, sorted(set(fresh) | set(gone)))
    finally:
        cache.close()


__all__ = ["BadChangedFile", "ChangedScan", "scan_changed", "source_of"]
