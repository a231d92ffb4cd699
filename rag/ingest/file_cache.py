"""What each article file held when last read, so that a rebuild reads, parses and cleans only the
files that changed.

A file counts as unchanged while its size, inode and modification and change times (in
nanoseconds) are. For each file the cache keeps its articles' ids, raw and cleaned hashes (or why
cleaning left nothing) and short-paragraph keys; for the folder, how many articles hold each key.
Cleaning drops a short paragraph that several articles share, so an article's cleaned text
depends on the others only through those counts: it is cleaned again when a key of its crosses
the threshold. The cache says what the files hold, not what the index holds: the rebuild still
compares each article with the serving snapshot's manifest, so a failed rebuild loses nothing.
Each scan commits whole or not at all, and leaves a new scan mark: a snapshot built from a scan
records its mark, so an update that reads only named files (rag.ingest.changed_files) knows
whether the cache is the one the serving snapshot was built from. Beside the files, a table of
every article's id and text key says which files hold an id or a text, without decoding them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.ingest.cleaning import (CLEANING_VERSION, MIN_ARTICLES_FOR_REPETITION, Article,
                                 clean_article, short_paragraph_keys)
from rag.ingest.loading import RawArticle, Skip, article_files, load_file

log = logging.getLogger(__name__)
SCHEMA = f"2/cleaning-v{CLEANING_VERSION}"
BATCH = 500


def raw_hash(article: RawArticle) -> str:
    digest = hashlib.sha256()
    for part in (article.id, article.title, article.published or "", article.url or "",
                 article.source, article.text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


@dataclass(slots=True)  # one per article of the archive, held through a build
class ArticleState:
    id: str
    source: str
    raw_hash: str
    sha256: str | None  # the cleaned article's; None when cleaning left nothing
    text_key: str | None  # title and cleaned text: two articles that say the very same thing
    skip: str | None = None  # why cleaning left nothing


@dataclass
class Scan:
    articles: list[ArticleState] = field(default_factory=list)  # in file order
    skipped: list[Skip] = field(default_factory=list)
    unsafe_urls: int = 0
    read_files: int = 0  # files read and parsed by this scan
    cleaned: dict[str, Article] = field(default_factory=dict)  # cleaned by this scan
    # Where a source's file is: the seeds folder joined with it, or the seeds file itself. Not a
    # path per file: a build of millions would hold them all to the end.
    root: str = ""
    single_file: bool = False
    shared: set[str] = field(default_factory=set)
    mark: str = ""  # the scan mark this scan left in the cache

    def path_of(self, source: str) -> Path:
        return Path(self.root if self.single_file else os.path.join(self.root, source))

    def cleaned_articles(self, states: list[ArticleState]) -> list[Article]:
        """The cleaned articles of `states`, in their order: those this scan cleaned, the others
        read again from their files (each file once: a collection file holding thousands of
        them, after a new embedder say, is not parsed once per article). An article no longer
        in its file, or left with nothing by cleaning, is left out."""
        wanted: dict[str, set[str]] = {}
        for state in states:
            found = self.cleaned.get(state.id)
            if found is None or found.source != state.source:
                wanted.setdefault(state.source, set()).add(state.id)
        reread: dict[tuple[str, str], Article] = {}
        for source, ids in wanted.items():
            for raw in load_file(self.path_of(source), source).articles:
                if raw.id in ids and (source, raw.id) not in reread:
                    cleaned = clean_article(raw, self.shared)
                    if isinstance(cleaned, Article):
                        reread[(source, raw.id)] = cleaned
        out = []
        for state in states:
            found = self.cleaned.get(state.id)
            if found is None or found.source != state.source:
                found = reread.get((state.source, state.id))
            if found is not None:
                out.append(found)
        return out


def _state(raw: RawArticle, shared: set[str]) -> tuple[ArticleState, Article | None]:
    cleaned = clean_article(raw, shared)
    if isinstance(cleaned, str):
        return ArticleState(raw.id, raw.source, raw_hash(raw), None, None, cleaned), None
    text_key = hashlib.sha256(f"{cleaned.title}\x1f{cleaned.text}".encode("utf-8")).hexdigest()
    return ArticleState(raw.id, raw.source, raw_hash(raw), cleaned.sha256, text_key), cleaned


class FileCache:
    # Decoded file rows from this process's last scan of each cache, by the scan mark it left
    # (a random token each writing scan stores): a server that rebuilds all day decodes only the
    # rows that changed. A scan by another process leaves another mark, and the rows are read
    # again.
    _memo: dict[str, tuple[str, dict[str, dict]]] = {}

    def __init__(self, path: Path, seeds: Path):
        self.path = path
        self.root = str(Path(seeds).resolve())
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:  # a damaged cache only costs reading every file
            log.warning("file cache %s unreadable (%s); starting it again", path, exc)
            path.unlink(missing_ok=True)
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS files (source TEXT PRIMARY KEY, stamp TEXT, "
                   "data TEXT, keys TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS articles (source TEXT, id TEXT, text_key TEXT)")
        for column in ("source", "id", "text_key"):
            db.execute(f"CREATE INDEX IF NOT EXISTS articles_{column} ON articles ({column})")
        held = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if (held.get("schema"), held.get("root")) != (SCHEMA, self.root):
            # Another cleaning, another layout, or another folder: nothing here applies.
            db.execute("BEGIN")
            for table in ("files", "counts", "articles", "meta"):
                db.execute(f"DELETE FROM {table}")
            # The table of articles is in step with the (empty) files: as of no scan yet.
            db.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", SCHEMA), ("root", self.root),
                                                              ("articles_table", "")])
            db.execute("COMMIT")
        return db

    def ensure_article_table(self) -> None:
        """The table of articles filled again from the files' states unless it is in step with
        them: `articles_table` holds the scan mark it was last in step with, and a scan moves it
        on only when it was in step before (a cache from before the table existed, or scanned
        since by a version that did not keep it, gets it filled here, once)."""
        if self._table_mark() == self._scan_mark():
            return
        self.db.execute("BEGIN")
        try:
            self.db.execute("DELETE FROM articles")
            # Read row by row: the files table of a million articles is not held whole.
            for source, data in self.db.cursor().execute("SELECT source, data FROM files"):
                self._index_articles(source, json.loads(data)["articles"])
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('articles_table', ?)",
                            (self._scan_mark(),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _index_articles(self, source: str, states: list[dict]) -> None:
        self.db.executemany("INSERT INTO articles VALUES (?, ?, ?)",
                            [(source, state["id"], state["text_key"]) for state in states])

    def close(self) -> None:
        self.db.close()

    def scan(self, seeds: Path) -> Scan:
        scan = Scan(root=str(seeds), single_file=Path(seeds).is_file())
        listed = article_files(seeds)
        if listed is None:
            scan.skipped.append(Skip(str(seeds), "no such file or folder"))
            listed = []
        cached = dict(self.db.execute("SELECT source, stamp FROM files"))
        present, fresh = {}, {}
        for entry in listed:
            if entry.reason:
                scan.skipped.append(Skip(entry.source, entry.reason))
                continue
            source = entry.source
            stamp = entry.stamp
            present[source] = stamp
            if cached.get(source) != stamp:
                # Only the paragraph keys are kept from this first reading: the articles are
                # read again, one file at a time, to be cleaned once the folder's counts are
                # known, so that the raw archive is never held whole.
                fresh[source] = (stamp, _weighted_keys(load_file(scan.path_of(source), source)))
        scan.read_files = len(fresh)
        gone = [s for s in cached if s not in present or s in fresh]
        self.db.execute("BEGIN")
        try:
            self._before = self._scan_mark()
            self._update(scan, fresh, gone, cached, present)
            self._commit(scan)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._collect(scan, present, fresh)
        return scan

    def _commit(self, scan: Scan) -> None:
        """`self._before`: the scan mark this scan started from."""
        self._after = scan.mark = secrets.token_hex(8)
        if self._table_mark() == self._before:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('articles_table', ?)", (self._after,))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('scan_mark', ?)", (self._after,))
        self.db.execute("COMMIT")

    def _table_mark(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = 'articles_table'").fetchone()
        return row[0] if row else None

    def _scan_mark(self) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE name = 'scan_mark'").fetchone()
        return row[0] if row else ""

    def _keys_of(self, sources: list[str]) -> dict[str, list[list[str]]]:
        return {source: json.loads(keys) for source, keys in
                in_batches(self.db, "SELECT source, keys FROM files WHERE source IN ({marks})", sources)}

    def _update(self, scan: Scan, fresh: dict, gone: list[str], cached: dict, present: dict,
                whole_folder: bool = True) -> None:
        """`whole_folder`: `present` lists every file of the folder; a scan of named files only
        cannot clean the other files again, and raises Unsettled where they would be."""
        delta: dict[str, int] = {}
        # Each article's keys count once for it and once for every repeated record folded into it.
        for keys in self._keys_of(gone).values():
            for article_keys, held in keys:
                for key in article_keys:
                    delta[key] = delta.get(key, 0) - held
        new_keys = {}
        for source, (_, keys) in fresh.items():
            new_keys[source] = keys
            for article_keys, held in new_keys[source]:
                for key in article_keys:
                    delta[key] = delta.get(key, 0) + held
        flipped = self._apply_counts(delta)
        if flipped and not whole_folder:
            raise Unsettled("a short paragraph crossed the repetition threshold")
        scan.shared = self._shared(None if whole_folder else
                                   {k for keys in new_keys.values() for article_keys, _ in keys
                                    for k in article_keys})
        for source in gone:
            self.db.execute("DELETE FROM articles WHERE source = ?", (source,))
            if source not in fresh:
                self.db.execute("DELETE FROM files WHERE source = ?", (source,))
        # Re-read files: the states still valid, by position (the file is unchanged).
        kept: dict[str, dict[int, dict]] = {}
        if flipped:
            # Articles in unchanged files whose furniture changed: cleaned again (the file is
            # parsed again below; its other articles keep their states).
            for source, keys, data in self.db.execute("SELECT source, keys, data FROM files"):
                if source in fresh or source not in present:
                    continue
                stored_keys = json.loads(keys)
                touched = [bool(flipped.intersection(k)) for k, _ in stored_keys]
                if any(touched):
                    states = json.loads(data)["articles"]
                    kept[source] = {i: state for i, (state, hit) in enumerate(zip(states, touched))
                                    if not hit}
                    # The file is unchanged, so its stored keys are its keys; it is read below.
                    fresh[source] = (cached[source], None)
                    self.db.execute("DELETE FROM articles WHERE source = ?", (source,))
                    new_keys[source] = stored_keys
                    scan.read_files += 1
        for source, (stamp, _) in fresh.items():
            # Read again (see `scan`); a file changed in between is read once more at the next
            # rebuild, since its stamp is the first reading's.
            loaded = load_file(scan.path_of(source), source)
            if not whole_folder and _weighted_keys(loaded) != new_keys[source]:
                # Changed since its first reading: its new paragraphs were not looked up.
                raise Unsettled(f"{source} changed while it was read")
            states = []
            for position, raw in enumerate(loaded.articles):
                if position in kept.get(source, {}):
                    states.append(kept[source][position])
                    continue
                state, cleaned = _state(raw, scan.shared)
                states.append(asdict(state))
                if cleaned is not None:
                    scan.cleaned[raw.id] = cleaned
            data = {"articles": states, "unsafe_urls": loaded.unsafe_urls,
                    "skipped": [[s.source, s.reason, s.count] for s in loaded.skipped]}
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                            (source, stamp, json.dumps(data), json.dumps(new_keys[source])))
            self._index_articles(source, states)

    def _shared(self, among: set[str] | None) -> set[str]:
        """The paragraph keys that repeat often enough to be furniture: all of them, or those of
        `among` (the keys of the files a scan of named files cleans)."""
        if among is None:
            return {k for (k,) in self.db.execute("SELECT key FROM counts WHERE n >= ?",
                                                  (MIN_ARTICLES_FOR_REPETITION,))}
        return {k for (k,) in in_batches(self.db, "SELECT key FROM counts WHERE key IN ({marks}) AND n >= ?",
                                         sorted(among), MIN_ARTICLES_FOR_REPETITION)}

    def _apply_counts(self, delta: dict[str, int]) -> set[str]:
        """Add `delta` to the key counts; the keys whose side of the threshold changed."""
        keys = [k for k, d in delta.items() if d]
        before = dict(in_batches(self.db, "SELECT key, n FROM counts WHERE key IN ({marks})", keys))
        flipped = set()
        for key in keys:
            old = before.get(key, 0)
            new = max(old + delta[key], 0)
            if (old >= MIN_ARTICLES_FOR_REPETITION) != (new >= MIN_ARTICLES_FOR_REPETITION):
                flipped.add(key)
            if new:
                self.db.execute("INSERT OR REPLACE INTO counts VALUES (?, ?)", (key, new))
            else:
                self.db.execute("DELETE FROM counts WHERE key = ?", (key,))
        return flipped

    def _collect(self, scan: Scan, present: dict, fresh: dict) -> None:
        """Every present file's articles and skips, in file order."""
        memo = self._memo_moved(fresh, [s for s in self._memo.get(str(self.path), ("", {}))[1]
                                        if s not in present])
        if memo is None:
            memo = {source: _decoded(data)
                    for source, data in self.db.execute("SELECT source, data FROM files")}
            self._memo[str(self.path)] = (self._after, memo)
        for source in present:
            held = memo.get(source)
            if held is not None:
                states, skipped, unsafe_urls = held
                scan.articles.extend(states)
                scan.skipped.extend(skipped)
                scan.unsafe_urls += unsafe_urls


    def _memo_moved(self, fresh, dropped: list[str]) -> dict | None:
        """This process's decoded rows moved on to the scan just committed: the files of `fresh`
        decoded again, those of `dropped` let go. None when the memo was of another scan."""
        mark, memo = self._memo.get(str(self.path), ("", {}))
        if mark != self._before or not mark:
            return None
        for source in dropped:
            memo.pop(source, None)
        for source in fresh:
            row = self.db.execute("SELECT data FROM files WHERE source = ?", (source,)).fetchone()
            if row:
                memo[source] = _decoded(row[0])
        self._memo[str(self.path)] = (self._after, memo)
        return memo


def in_batches(db: sqlite3.Connection, query: str, values: list, *after) -> list[tuple]:
    """The rows of `query` for `values`, asked BATCH at a time (SQLite bounds a statement's
    parameters): `{marks}` in the query stands for one batch's placeholders, `after` for the
    parameters that follow them."""
    out = []
    for start in range(0, len(values), BATCH):
        part = values[start:start + BATCH]
        out.extend(db.execute(query.format(marks=",".join("?" * len(part))), [*part, *after]).fetchall())
    return out


class Unsettled(Exception):
    """A scan of named files would change what other files hold: the whole folder is scanned."""


def _weighted_keys(loaded) -> list[list]:
    """[short-paragraph keys, how many records hold them] for each article of a file."""
    return [[sorted(short_paragraph_keys(a.text)), 1 + copies]
            for a, copies in zip(loaded.articles, loaded.copies)]


def _decoded(data: str) -> tuple[list[ArticleState], list[Skip], int]:
    data = json.loads(data)
    return ([ArticleState(**a) for a in data["articles"]],
            [Skip(*skip) for skip in data["skipped"]], data["unsafe_urls"])


def scan_articles(seeds: Path, index_dir: Path) -> Scan:
    cache = FileCache(index_dir / "files.sqlite", seeds)
    try:
        return cache.scan(seeds)
    finally:
        cache.close()
