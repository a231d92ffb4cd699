"""Load article files from a folder (or one corpus file) into raw articles, with a reason for
every file or record that cannot be used."""

from __future__ import annotations

import hashlib
import json
import os
import re
from stat import S_ISREG
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from rag.config import HTML_SUFFIXES, MAX_RECORD_BYTES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES
from rag.ingest.urls import safe_url
from rag.ingest.dates import find_date_line, parse_date
from rag.ingest.reading import READ_ERRORS, Rejected, file_limit, iter_lines, megabytes, read_text

MAX_ARTICLE_CHARS = 1_000_000
# A collection's skipped records are listed one by one up to this many; the rest are counted by
# reason, so that a file of a million bad or repeated lines costs no more memory than a few.
MAX_LISTED_SKIPS = 100
FOLDED = "same title and text as an earlier record (folded into it)"


@dataclass
class RawArticle:
    id: str
    title: str
    text: str
    source: str
    published: str | None = None
    url: str | None = None


@dataclass
class Skip:
    source: str
    reason: str
    count: int = 1  # records this line stands for (more than one once they are counted, not listed)


@dataclass
class LoadResult:
    """A file's articles as it is read. Records with the same title and text as an earlier one
    of the file are folded into it as they come (`copies`, and one skip line that counts them):
    a collection of a million repeated records holds one article, not a million."""

    articles: list[RawArticle] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    unsafe_urls: int = 0  # URLs dropped from articles that were kept
    copies: list[int] = field(default_factory=list)  # per article: later records folded into it
    _seen: dict[bytes, int] = field(default_factory=dict, repr=False)
    _folds: dict[int, Skip] = field(default_factory=dict, repr=False)
    _unlisted: dict[str, list] = field(default_factory=dict, repr=False)

    def extend(self, other: "LoadResult") -> None:
        """Another file's result after this one's (no folding across files: the rebuild decides
        between files)."""
        other.finish()
        self.articles += other.articles
        self.copies += other.copies
        self.skipped += other.skipped
        self.unsafe_urls += other.unsafe_urls

    def skip(self, source: str, reason: str) -> None:
        if len(self.skipped) < MAX_LISTED_SKIPS:
            self.skipped.append(Skip(source, reason))
            return
        held = self._unlisted.setdefault(reason, [source, 0])
        held[1] += 1

    def add(self, article: RawArticle) -> None:
        key = _fold_key(article)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = len(self.articles)
            self.articles.append(article)
            self.copies.append(0)
            return
        self.copies[first] += 1
        line = self._folds.get(first)
        if line is None and len(self.skipped) >= MAX_LISTED_SKIPS:
            held = self._unlisted.setdefault(FOLDED, [article.source, 0])
            held[1] += 1  # past the listed lines, folds are counted together
            return
        if line is None:
            kept = self.articles[first]
            line = self._folds[first] = Skip(
                article.source, f"same title and text as '{kept.id}' (folded into it)", 0)
            self.skipped.append(line)
        line.count += 1

    def finish(self) -> "LoadResult":
        """The records counted rather than listed, as one line per reason; call once read."""
        for reason, (first_source, count) in self._unlisted.items():
            self.skipped.append(Skip(f"{first_source} and {count - 1:,} more" if count > 1
                                     else first_source, reason, count))
        self._unlisted, self._seen, self._folds = {}, {}, {}
        return self


def _fold_key(article: RawArticle) -> bytes:
    return hashlib.blake2b(f"{article.title}\x1f{article.text}".encode("utf-8", "surrogatepass"),
                           digest_size=16).digest()


def suffix_of(path: Path) -> str:
    """The article suffix, looking through a trailing .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


@dataclass
class FileEntry:
    path: str
    source: str  # the path under the seeds folder, with forward slashes
    reason: str | None  # why it must not be read
    # What the file was when listed (size, inode, modification and change times, through a
    # symlink inside the folder): a short string, not the stat result, for an archive of millions.
    stamp: str | None = None


def stamp_of(stat: os.stat_result) -> str:
    return f"{stat.st_size}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def iter_files(root: Path) -> Iterator[FileEntry]:
    """Every candidate file under root in os.walk's order (a folder's files, then its
    subfolders), with a skip reason for those that must not be read. One scandir per folder:
    an archive of many thousand files is listed and stat'ed without a path object per file.

    Symlinks are followed only when they resolve inside root, so a seeds folder cannot be used
    to read files elsewhere on the machine; symlinked folders are not entered."""
    root_real = os.path.realpath(root)

    def walk(folder: str, prefix: str) -> Iterator[FileEntry]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            source = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, source + "/"))
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.commonpath([target, root_real]) != root_real:
                    yield FileEntry(entry.path, source, "symlink pointing outside the seeds folder")
                    continue
            try:
                stat = entry.stat()
            except OSError:
                stat = None
            if stat is None or not S_ISREG(stat.st_mode):
                yield FileEntry(entry.path, source, "not a regular file")
                continue
            yield FileEntry(entry.path, source, None, stamp_of(stat))
        for path, sub in folders:
            yield from walk(path, sub)

    yield from walk(str(root), "")


def article_files(path: Path) -> list[FileEntry] | None:
    """The files of a seeds folder, or a single article or corpus file; None when there is no
    such file or folder."""
    path = Path(path)
    if path.is_file():
        return [FileEntry(str(path), path.name, None, stamp_of(path.stat()))]
    if path.is_dir():
        return list(iter_files(path))
    return None


def load_articles(path: Path) -> LoadResult:
    """Load a seeds folder, or a single article or corpus file."""
    result = LoadResult()
    files = article_files(path)
    if files is None:
        result.skip(str(path), "no such file or folder")
        return result
    for entry in files:
        if entry.reason:
            result.skip(entry.source, entry.reason)
            continue
        result.extend(load_file(Path(entry.path), entry.source))
    return result


def load_file(file: Path, source: str) -> LoadResult:
    """One file's articles, or the reasons it or some of its records cannot be used."""
    result = LoadResult()
    _load_file(file, source, result)
    return result.finish()


def _load_file(file: Path, source: str, result: LoadResult) -> None:
    suffix = suffix_of(file)
    if suffix not in SUPPORTED_SUFFIXES:
        result.skip(source, f"unsupported file type '{suffix or file.name}'")
        return
    stem = _stem(source)
    # A file is used whole or not at all: records read before a problem shows are dropped.
    found = LoadResult()
    try:
        if suffix == ".jsonl":
            _load_json_lines(file, stem, source, found)
        else:
            text = read_text(file, file_limit(suffix))
            if suffix in TEXT_SUFFIXES:
                _add(found, parse_text_article(text, stem, source, markdown=suffix == ".md"), source)
            elif suffix in HTML_SUFFIXES:
                _add(found, parse_html_article(text, stem, source), source)
            else:
                _load_json_document(text, stem, source, found)
    except Rejected as exc:
        result.skip(source, str(exc))
    except READ_ERRORS as exc:
        result.skip(source, f"cannot read file: {exc}")
    else:
        result.extend(found)


def _stem(source: str) -> str:
    name = source
    while True:
        base, ext = os.path.splitext(name)
        if ext.lower() in SUPPORTED_SUFFIXES | {".gz"} and base:
            name = base
        else:
            return name


def _add(result: LoadResult, article: RawArticle | str, source: str) -> None:
    """Append the article, or record the reason it was rejected. Every article passes here, so
    this is where a URL that is not plain http(s) is taken off it (the article stays)."""
    if isinstance(article, str):
        result.skip(source, article)
        return
    if article.url is not None:
        # Feeds pad URLs with spaces; inside, whitespace is refused (see safe_url).
        url = safe_url(article.url.strip())
        if url is None:
            result.unsafe_urls += 1
        article.url = url
    result.add(article)


def _validate(article: RawArticle) -> RawArticle | str:
    if not article.text.strip():
        return "no article text"
    if len(article.text) > MAX_ARTICLE_CHARS:
        return f"article text too long ({len(article.text):,} characters)"
    return article


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^|\s)[#>]+\s*|[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}")


def _strip_markdown(line: str) -> str:
    return _MD_MARKS.sub(lambda m: m.group(1) or "", _MD_LINK.sub(r"\1", line)).strip()


def parse_text_article(text: str, stem: str, source: str, markdown: bool = False) -> RawArticle | str:
    """Plain text or Markdown: the first line is the title; a short line near the top that
    carries a date (for example "Markets 2025-11-21 10:20") becomes the published date."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if markdown:
        lines = [_strip_markdown(line) for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "empty file"
    title = lines.pop(0).strip()
    published, date_index = find_date_line(lines)
    if date_index is not None:
        lines.pop(date_index)
    body = "\n".join(lines).strip()
    return _validate(RawArticle(id=stem, title=title, text=body, source=source, published=published))


def parse_html_article(html: str, stem: str, source: str) -> RawArticle | str:
    """Main text, title and date of a web page, through trafilatura (scripts, iframes and page
    chrome never reach the text)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True,
            favor_precision=True,
        )
    except Exception as exc:  # trafilatura raises many lxml errors on broken markup
        return f"HTML could not be parsed: {type(exc).__name__}"
    doc = doc.as_dict() if doc is not None and hasattr(doc, "as_dict") else doc
    if not doc or not (doc.get("text") or "").strip():
        return "no article text found in the HTML"
    title = (doc.get("title") or "").strip() or stem
    return _validate(
        RawArticle(
            id=stem, title=title, text=doc["text"].strip(), source=source,
            published=parse_date(doc.get("date")), url=doc.get("url") or None,
        )
    )


_UNPARSED = object()


def _parse_json(text: str, where: str, result: LoadResult, one_line: bool):
    """The parsed value, or _UNPARSED once the reason it cannot be read is recorded."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = (f"malformed JSON line: {exc.msg}" if one_line
                  else f"malformed JSON (line {exc.lineno}): {exc.msg}")
    except RecursionError:  # "[[[[…" nested past Python's limit
        reason = "JSON nested too deeply"
    result.skip(where, reason)
    return _UNPARSED


def _load_json_document(text: str, stem: str, source: str, result: LoadResult) -> None:
    data = _parse_json(text, source, result, one_line=False)
    if data is _UNPARSED:
        return
    records = data if isinstance(data, list) else [data]
    numbered = [(i + 1, rec, f"{source}[{i}]" if isinstance(data, list) else source)
                for i, rec in enumerate(records)]
    for n, record, where in numbered:
        _add(result, article_from_record(record, f"{stem}#{n}", source), where)


def _load_json_lines(file: Path, stem: str, source: str, result: LoadResult) -> None:
    for n, line in iter_lines(file):
        where = f"{source}:{n}"
        if line is None:
            result.skip(where, f"record larger than {megabytes(MAX_RECORD_BYTES)}")
            continue
        record = _parse_json(line, where, result, one_line=True)
        if record is not _UNPARSED:
            _add(result, article_from_record(record, f"{stem}#{n}", source), where)


def article_from_record(record: object, fallback_id: str, source: str) -> RawArticle | str:
    """One JSON object (`id`, `title`, `text`, optional `published`, `url`) as an article."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    text = record.get("text")
    if not isinstance(text, str):
        return "missing or non-string 'text'"
    raw_id = record.get("id")
    article_id = str(raw_id).strip() if raw_id not in (None, "") else fallback_id
    title = record.get("title")
    title = title.strip() if isinstance(title, str) and title.strip() else text.strip()[:80]
    url = record.get("url") if isinstance(record.get("url"), str) else None
    return _validate(
        RawArticle(
            id=article_id, title=title, text=text.strip(), source=source,
            published=parse_date(record.get("published") or record.get("date")), url=url or None,
        )
    )
