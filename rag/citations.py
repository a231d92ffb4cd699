"""[n] citation markers: checked against the numbered passages, in whole texts and in streams."""

from __future__ import annotations

import re

from rag.models import Citation
from rag.retrieval import Passage
from rag.sentences import split_sentences

_MARKER = re.compile(r"\s?\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
_MAYBE_MARKER = re.compile(r"\s?\[[\d,;\s]*$")
MAX_MARKER_CHARS = 24


def _rewrite(match: re.Match, valid: range, cited: list[int]) -> str:
    numbers = [int(x) for x in re.split(r"[,;]", match.group(1)) if x.strip()]
    kept = [n for n in numbers if n in valid]
    for n in kept:
        if n not in cited:
            cited.append(n)
    lead = " " if match.group(0).startswith(" ") else ""
    return lead + "".join(f"[{n}]" for n in kept) if kept else ""


def check_markers(text: str, passage_count: int) -> tuple[str, list[int]]:
    """The text with markers that point at no passage dropped (and [1, 2] written [1][2]), and
    the valid passage numbers in order of first citation."""
    cited: list[int] = []
    valid = range(1, passage_count + 1)
    cleaned = _MARKER.sub(lambda m: _rewrite(m, valid, cited), text)
    return cleaned, cited


class MarkerStream:
    """Applies check_markers to text arriving in pieces: holds back only what could still be the
    start of a marker, so the stream shows exactly the text the final answer will have."""

    def __init__(self, passage_count: int):
        self.valid = range(1, passage_count + 1)
        self.cited: list[int] = []
        self._pending = ""

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        out, self._pending = self._split(text)
        return out

    def _split(self, text: str) -> tuple[str, str]:
        out = _MARKER.sub(lambda m: _rewrite(m, self.valid, self.cited), text)
        tail = _MAYBE_MARKER.search(out)
        if tail and len(out) - tail.start() <= MAX_MARKER_CHARS:
            return out[: tail.start()], out[tail.start():]
        return out, ""

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


def unsupported_sentences(text: str) -> list[str]:
    """Sentences of an answer that carry no citation marker (short connective phrases aside)."""
    out = []
    for sentence in split_sentences(text):
        if "[" in sentence and _MARKER.search(sentence):
            continue
        if len(sentence.split()) >= 4:
            out.append(sentence)
    return out


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, never inside a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " ":
        space = cut.rfind(" ")
        cut = cut[:space] if space > 0 else cut
    return cut.rstrip(" ,;:") + "…"


def citation(n: int, passage: Passage, highlight: str | None = None) -> Citation:
    return Citation(
        n=n, article_id=passage.article_id, title=passage.title, published=passage.published,
        source=passage.source, url=passage.url, quote=passage.text, highlight=highlight,
        score=round(passage.score, 4),
    )
