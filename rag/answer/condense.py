"""Turn a follow-up ("What about its profit?") into a question that can be searched on its own."""

from __future__ import annotations

import re

from rag.models import Turn

_REFERRING = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|the company|the firm|the same)\b",
    re.IGNORECASE,
)
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|why|so|then|but)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*")
_QUESTION_WORDS = {
    "what", "who", "whom", "whose", "when", "where", "why", "how", "which", "did", "does", "do",
    "is", "are", "was", "were", "will", "would", "can", "could", "should", "has", "have", "had",
    "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "about", "with", "by", "at",
    "it", "its", "they", "their", "this", "that", "these", "those", "many", "much", "say", "said",
    "tell", "me", "us", "from", "as", "be", "been",
}
MAX_FOLLOW_UP_WORDS = 12


def is_follow_up(question: str) -> bool:
    words = _WORD.findall(question)
    if len(words) > MAX_FOLLOW_UP_WORDS:
        return False
    return bool(_REFERRING.search(question) or _FOLLOW_UP_START.search(question))


def key_terms(text: str) -> list[str]:
    """Words that carry the subject: names first (capitalised), then the other content words."""
    words = [w.strip(".'’-") for w in _WORD.findall(text)]
    content = [w for w in words if w and w.lower() not in _QUESTION_WORDS and len(w) > 2]
    names = [w for w in content if w[0].isupper() or any(c.isdigit() for c in w)]
    rest = [w for w in content if w not in names]
    seen, out = set(), []
    for word in names + rest:
        if word.lower() not in seen:
            seen.add(word.lower())
            out.append(word)
    return out


def rewrite(question: str, history: list[Turn]) -> str:
    """Deterministic rewrite: a follow-up gets the key terms of the previous question appended."""
    previous = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not previous or not is_follow_up(question):
        return question
    already = {w.lower() for w in _WORD.findall(question)}
    carried = [w for w in key_terms(previous[-1]) if w.lower() not in already][:6]
    return f"{question.strip()} ({' '.join(carried)})" if carried else question
