"""A terse model reply ("400,000 [1]", "Lei Jun.") names the answer without saying anything a
reader could check: it is shown inside the passage sentence that says it, cited, with the model's
own words marked as the answer span. The model chose the answer; the sentence is the passage's,
word for word, so it is supported by construction. A reply that no single passage sentence
contains (every word and number the reply adds to the question) is not quoted, and is rejected
as before."""

from __future__ import annotations

import re

from rag.answer.attribution import (asked_words, numbers_in, says_something, strip_markers,
                                    with_marker, words_of)
from rag.ingest.sentences import split_sentences

MAX_REPLY_WORDS = 30  # longer replies are answers in their own right, checked as such
MAX_SPAN_WORDS = 10  # the model's words spread wider than this in the sentence: mark by kind
_WORD = re.compile(r"[A-Z](?:\.[A-Z])+\.|[A-Za-z0-9]+(?:['’][A-Za-z]+)?")  # "U.S." is one word


def quote_reply(reply: str, question: str, sources: list[str], cited: list[int],
                blocked=lambda sentence: False) -> tuple[str, int, tuple[int, int] | None] | None:
    """(the quoted sentence with its marker, its 1-based passage number, the span of the model's
    words in it) for a terse reply, or None. `sources` are the passages' texts, `cited` the
    passages its markers named (tried first, then the rest in rank order); `blocked` says which
    sentences may never be quoted (instruction-like text)."""
    bare = strip_markers(reply)
    said, asked = set(words_of(bare)), asked_words(question)
    new = said - asked
    numbers = numbers_in(bare) - numbers_in(question)
    if not new or len(bare.split()) > MAX_REPLY_WORDS:
        return None
    order = [n for n in cited if 1 <= n <= len(sources)]
    order += [n for n in range(1, len(sources) + 1) if n not in order]
    for n in order:
        found = [s for s in split_sentences(sources[n - 1])
                 if not blocked(s) and new <= set(words_of(s)) and numbers <= numbers_in(s)
                 and says_something(s, question)]
        if found:
            # The sentence that says most of what the reply says (restated question included),
            # then most of what was asked.
            sentence = max(found, key=lambda s: (len(said & set(words_of(s))),
                                                 len(asked & set(words_of(s)))))
            return with_marker(sentence, n), n, _span_of(sentence, new)
    return None


def _span_of(sentence: str, new: set[str]) -> tuple[int, int] | None:
    """The shortest stretch of the sentence holding every one of the model's new words."""
    hits = [(m.start(), m.end(), token) for m in _WORD.finditer(sentence)
            for token in words_of(m.group())[:1] if token in new]
    best = None
    for i, (start, _, _) in enumerate(hits):
        seen: set[str] = set()
        for j in range(i, len(hits)):
            seen.add(hits[j][2])
            if seen == new:
                if best is None or hits[j][1] - start < best[1] - best[0]:
                    best = (start, hits[j][1])
                break
    if best is None or len(sentence[best[0]:best[1]].split()) > MAX_SPAN_WORDS:
        return None
    return best
