"""What a rebuild starts from: the seeds scanned (the whole folder, or only the files named as
changed), the articles that count (one per id, one per text), the raw hashes' digest, and the
plan against the serving snapshot (rag.index.plan)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.changed_files import scan_changed
from rag.ingest.cleaning import CLEANING_VERSION
from rag.ingest.file_cache import ArticleState, Scan, scan_articles
from rag.index.plan import BuildPlan, plan_build, plan_named, whole_build_due
from rag.index.snapshot import Snapshot
from rag.index.store import Pointer

# A sum of 1024-bit hashes: summed hashes of few bits let planted articles be chosen so that
# two different archives sum alike (Wagner's generalized birthday attack costs about
# 2**(2*sqrt(bits)): 2**32 for 256 bits, 2**64 here).
DIGEST_BITS = 1024
DIGEST_MODULUS = 2**DIGEST_BITS
DIGEST_PREFIX = f"sum{DIGEST_BITS}-v{CLEANING_VERSION}:"


@dataclass
class Prepared:
    scan: Scan
    skipped: list[dict] = field(default_factory=list)
    digest: str | None = None
    plan: BuildPlan | None = None  # None: nothing can have changed
    raw_hashes: dict[str, str] = field(default_factory=dict)  # of the articles scanned
    remaining: int = 0  # articles the rebuild would index

    @property
    def unchanged(self) -> bool:
        return self.plan is None


def _skip_line(skip) -> dict:
    line = {"source": skip.source, "reason": skip.reason}
    if skip.count != 1:
        line["count"] = skip.count  # records counted, not listed one by one
    return line


def _unique(raw: list[ArticleState], skipped: list[dict]) -> list[ArticleState]:
    by_id: dict[str, ArticleState] = {}
    for article in raw:
        if article.id in by_id:
            skipped.append({"source": article.source,
                            "reason": f"duplicate article id '{article.id}' (kept {by_id[article.id].source})"})
        else:
            by_id[article.id] = article
    return list(by_id.values())


def _drop_same_text(articles: list[ArticleState], skipped: list[dict]) -> list[ArticleState]:
    seen: dict[str, ArticleState] = {}
    kept = []
    for article in articles:
        key = article.text_key
        if key in seen:
            skipped.append({"source": article.source,
                            "reason": f"same text as {seen[key].source} ({seen[key].id})"})
            continue
        seen[key] = article
        kept.append(article)
    return kept


def _term(article_id: str, raw_hash: str) -> int:
    return int.from_bytes(hashlib.shake_256(f"{article_id}\x1f{raw_hash}".encode("utf-8"))
                          .digest(DIGEST_BITS // 8), "big")


def digest_of(raw_hashes: dict[str, str]) -> str:
    """Identifies the raw input and the cleaning that applies to it. A sum of one hash per
    article, so that an update of a few files moves it without the archive's hashes."""
    total = sum(_term(a, h) for a, h in raw_hashes.items()) % DIGEST_MODULUS
    return f"{DIGEST_PREFIX}{total:0{DIGEST_BITS // 4}x}"


def digest_moved(digest: str | None, before: list[ArticleState], after: list[ArticleState]) -> str | None:
    """`digest` with the articles of `before` taken out and those of `after` put in; None when
    `digest` is not a sum of this cleaning's."""
    if not digest or not digest.startswith(DIGEST_PREFIX):
        return None
    total = int(digest[len(DIGEST_PREFIX):], 16)
    total += sum(_term(a.id, a.raw_hash) for a in after) - sum(_term(a.id, a.raw_hash) for a in before)
    return f"{DIGEST_PREFIX}{total % DIGEST_MODULUS:0{DIGEST_BITS // 4}x}"


def _cleaned(states: list[ArticleState], skipped: list[dict]) -> list[ArticleState]:
    """The articles cleaning left something of, one per text; the others' reasons in `skipped`."""
    cleaning_skips = [{"source": a.source, "reason": a.skip} for a in states if a.sha256 is None]
    articles = _drop_same_text([a for a in states if a.sha256 is not None], cleaning_skips)
    skipped.extend(cleaning_skips)
    return articles


def whole_folder(seeds: Path, index_dir: Path, pointer: Pointer | None, fingerprint: str,
                 previous: Snapshot | None) -> Prepared:
    # Only files that changed since the last rebuild are read and cleaned (rag.ingest.file_cache).
    scan = scan_articles(seeds, index_dir)
    skipped = [_skip_line(s) for s in scan.skipped]
    states = _unique(scan.articles, skipped)
    raw_hashes = {a.id: a.raw_hash for a in states}
    digest = digest_of(raw_hashes)
    articles = _cleaned(states, skipped)
    prepared = Prepared(scan, skipped, digest, raw_hashes=raw_hashes, remaining=len(articles))
    if pointer is not None and previous is not None:
        if pointer.fingerprint == fingerprint and pointer.summary.get("raw_hashes_digest") == digest:
            return prepared  # same files, same contents, same pipeline: nothing can have changed
    prepared.plan = plan_build(articles, previous.articles if previous is not None else None,
                               len(previous) if previous is not None else 0, pointer, fingerprint)
    return prepared


def named_files(seeds: Path, index_dir: Path, changed: list[str], pointer: Pointer | None,
                fingerprint: str, previous: Snapshot | None) -> Prepared | None:
    """The update of the files named in `changed` alone, in place; None when it needs the
    whole folder scanned (no index to update, a whole build due, or see
    rag.ingest.changed_files)."""
    if pointer is None or previous is None or pointer.fingerprint != fingerprint:
        return None
    if whole_build_due(pointer, bool(previous.articles), len(previous), fingerprint):
        return None
    digest = pointer.summary.get("raw_hashes_digest")
    if digest_moved(digest, [], []) is None:
        return None
    found = scan_changed(seeds, index_dir, changed, pointer.summary.get("scan_mark"))
    if found is None:
        return None
    scan = found.scan
    skipped = [_skip_line(s) for s in scan.skipped]
    if not found.changed:
        return Prepared(scan, skipped, digest)
    articles = _cleaned(scan.articles, skipped)
    plan = plan_named(articles, {a.id for a in found.before}, previous.articles)
    return Prepared(scan, skipped, digest_moved(digest, found.before, scan.articles), plan,
                    {a.id: a.raw_hash for a in scan.articles}, remaining=plan.untouched + len(articles))


__all__ = ["Prepared", "digest_of", "digest_moved", "named_files", "whole_folder"]
