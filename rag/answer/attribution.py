"""Support of an answer's claims by passages, and post-hoc attribution: models that write no
[n] markers (or wrong ones) still get their supported sentences cited.

A claim is supported by passages when most of its content words occur within a few consecutive
sentences of one of them (aligned to where it is said, not to a bag of the passage's words), and
every number and every name in it occurs in them: a sentence with a changed number ("500,000" for
"400,000") or another company's name shares most words with the passage and is still not
supported."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.answer.question_type import names_in
from rag.index.lexical import tokenize
from rag.ingest.sentences import split_sentences
from rag.lexicon import CARDINALS, MARKER, SCALES, TENS

GROUNDING_MIN_SHARE = 0.6  # of the claim's content words, within one window of sentences
WINDOW_SENTENCES = 3  # a claim may join what up to three consecutive sentences say
MIN_NEW_WORDS = 2  # an answer must say at least this much beyond the question's own words
_MARKERS = re.compile(rf"\s?{MARKER}")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d")
_NUMBER_WORDS = frozenset([*CARDINALS[1:], *TENS, *SCALES, "dozen"])
_DOTTED = re.compile(r"\b[A-Z](?:\.\s?[A-Z])+\.")
_DIGIT_GROUPS = re.compile(r"(?<=\d)[,.](?=\d)")
_TRAILING = re.compile(r"""([.!?…]["”’')\]]*)?\s*$""")


def strip_markers(text: str) -> str:
    return _MARKERS.sub("", text)


def numbers_in(text: str) -> set[str]:
    digits = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    words = {w for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return digits | words


def _dotless(text: str) -> str:
    """Dotted acronyms written as one word: "U.S." and "U. S." as "US"."""
    return _DOTTED.sub(lambda m: re.sub(r"[.\s]", "", m.group()), text)


def words_of(text: str) -> list[str]:
    """Content words, with a dotted acronym as one word ("U.S." is "us", as "US" is)."""
    return tokenize(_dotless(text))


@lru_cache(maxsize=256)
def _windows(passage: str) -> list[set[str]]:
    # Every claim of an answer is held against the same few passages: split and tokenize once.
    sentences = [set(words_of(s)) for s in split_sentences(passage)] or [set(words_of(passage))]
    return [set().union(*sentences[i:i + WINDOW_SENTENCES])
            for i in range(max(1, len(sentences) - WINDOW_SENTENCES + 1))]


def share(claim: str, passages: list[str]) -> float:
    """The largest share of the claim's content words found within one window of sentences."""
    words = set(words_of(_MARKERS.sub(" ", claim)))
    if not words:
        return 1.0
    return max((len(words & window) / len(words) for p in passages for window in _windows(p)),
               default=0.0)


def supported(claim: str, passages: list[str], question: str = "") -> bool:
    """`question`: its numbers are the asker's premise, which a claim may restate ("the
    70-vehicle crash") without the passage repeating them; what the claim adds must be there."""
    claim = _MARKERS.sub(" ", claim)
    if share(claim, passages) < GROUNDING_MIN_SHARE:
        return False
    source = " ".join(passages)
    if not numbers_in(claim) - numbers_in(question) <= numbers_in(source):
        return False
    # A name's words must all be in the passages, even names the question gives ("What did Tesla
    # report?" answered "Tesla reported ..." from a passage about Xiaomi is the subject swapped);
    # the first word of a sentence counts only if they have it too, which a capitalised common
    # word usually does.
    available = set(words_of(source))
    return all(set(words_of(name)) <= available for name in names_in(_dotless(claim)))


def asked_words(question: str) -> frozenset[str]:
    return frozenset(words_of(question))


def says_something(text: str, question: str) -> bool:
    """More than markers and the question's own words: a bare "[2]" is never an answer. A
    number is one word ("400,000" is not two)."""
    text = _DIGIT_GROUPS.sub("", _MARKERS.sub(" ", text))
    return len(set(words_of(text)) - asked_words(question)) >= MIN_NEW_WORDS


def best_support(claim: str, passages: list[str], question: str = "") -> int | None:
    """The 1-based number of the passage that supports the claim best, or None."""
    best, best_share = None, 0.0
    for n, passage in enumerate(passages, start=1):
        if supported(claim, [passage], question):
            found = share(claim, [passage])
            if found > best_share:
                best, best_share = n, found
    return best


def with_marker(claim: str, n: int) -> str:
    """The claim with [n] before its closing punctuation ("... units [1].")."""
    match = _TRAILING.search(claim)
    return f"{claim[:match.start()].rstrip()} [{n}]{claim[match.start():]}"
