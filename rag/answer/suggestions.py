"""Example questions for the first screen, derived from the indexed articles."""

from __future__ import annotations

import re

from rag.index.snapshot import ArticleEntry

_LEADING_NAME = re.compile(r"^((?:[A-Z][\w’'&.-]*)(?:\s+(?:[A-Z][\w’'&.-]*|of|and|&))*)")
_SKIP_START = {"The", "A", "An", "How", "Why", "What", "When", "Who", "Where", "In", "On", "After"}


def _subject(title: str) -> str | None:
    words = title.split()
    if words and words[0] in _SKIP_START:
        title = " ".join(words[1:])
    match = _LEADING_NAME.match(title)
    if not match:
        return None
    name = match.group(1).strip(" .,-")
    name = re.sub(r"['’]s$", "", name)
    return name if 2 <= len(name) <= 40 and not name.isdigit() else None


def example_questions(articles: list[ArticleEntry], limit: int = 4) -> list[str]:
    """Questions about the most recent articles: one on each headline and one on its subject."""
    recent = sorted(articles, key=lambda a: (a.published or "", a.id), reverse=True)
    out: list[str] = []
    for article in recent:
        title = " ".join(article.title.split())
        subject = _subject(title)
        candidates = [f"What does the report “{title.rstrip('.')}” say?" if len(title) < 90
                      else f"What does the report on {subject or title[:60]} say?"]
        if subject:
            candidates.append(f"What is the latest news about {subject}?")
        for question in candidates:
            if question not in out:
                out.append(question)
        if len(out) >= limit:
            break
    return out[:limit]
