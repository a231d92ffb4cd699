"""Which rows of a collection, said without any store's syntax: each field set is one condition,
and all must hold. `holds` is the meaning every store must give it (the fake store evaluates it
directly; rag/index/store.py translates it for Chroma, and tests/fast/test_collection.py checks
that both agree)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class RowFilter:
    born_at_most: int | None = None  # added by this snapshot or an earlier one
    born_after: int | None = None  # added by a later snapshot
    died_after: int | None = None  # still alive at this snapshot
    died_before: int | None = None  # removed by some snapshot before this one
    died_at_most: int | None = None  # removed by this snapshot or an earlier one
    published_from: float | None = None  # unix time; undated rows never match a date bound
    published_until: float | None = None
    sources: tuple[str, ...] | None = None  # the row's seeds file is one of these

    def conditions(self) -> list[tuple[str, object]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]

    def holds(self, meta: dict) -> bool:
        checks = {
            "born_at_most": lambda v: "born" in meta and meta["born"] <= v,
            "born_after": lambda v: "born" in meta and meta["born"] > v,
            "died_after": lambda v: "died" in meta and meta["died"] > v,
            "died_before": lambda v: "died" in meta and meta["died"] < v,
            "died_at_most": lambda v: "died" in meta and meta["died"] <= v,
            "published_from": lambda v: "published_ts" in meta and meta["published_ts"] >= v,
            "published_until": lambda v: "published_ts" in meta and meta["published_ts"] <= v,
            "sources": lambda v: meta.get("source") in v,
        }
        return all(checks[name](value) for name, value in self.conditions())
