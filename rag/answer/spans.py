"""The answer within a sentence: the name, number, date or place the question asks for, as a
character span. Candidates of the asked type that the question does not already say; of those,
the one nearest the question's own words in the sentence."""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from rag.answer import weights
from rag.answer.question_type import QuestionFocus, name_spans
from rag.index.lexical import tokenize
from rag.lexicon import (CARDINALS, HONORIFICS, MARKER, MILITARY_RANKS, MONTH, OFFICES, QUALIFIERS,
                         ROYALTY, SCALES, TENS, WEEKDAYS, alternatives)

_MONTH = rf"{MONTH}\.?"
_SCALE = rf"(?:\s+(?:{alternatives(SCALES)})\b)?"
_NUMBER_WORDS = rf"\b(?:{alternatives(CARDINALS[1:] + list(TENS) + ['hundred', 'dozens?', 'half'])})\b"
_PATTERNS = {
    "number": re.compile(rf"(?:[$£€¥]\s?)?\d[\d,.]*(?:st|nd|rd|th)?(?:\s*(?:%|percent|per cent))?"
                         rf"{_SCALE}|{_NUMBER_WORDS}", re.I),
    # What someone is: "founder, chairman, and CEO".
    "role": re.compile(r"\b(?:(?:co-?)?founder|chairman|chairwoman|chair|chief executive(?: officer)?|"
                       r"CEO|CFO|COO|president|vice president|partner|director|minister|secretary|"
                       r"governor|senator|spokes(?:man|woman|person)|head|leader|owner|editor)"
                       r"(?:(?:,\s*(?:and\s+)?|\s+and\s+)(?:(?:co-?)?founder|chairman|chairwoman|"
                       r"chief executive(?: officer)?|CEO|CFO|president|partner|director))*", re.I),
    # Atomic digit runs: no backtracking through a long run of digits in article text.
    "amount": re.compile(rf"(?:[$£€¥]\s?|(?:US|HK)\$\s?)(?>\d[\d,.]*){_SCALE}|(?>\d[\d,.]*){_SCALE}\s+"
                         r"(?:dollars|euros|pounds|yuan|yen|rupees|francs|won)\b|(?>\d[\d,.]*)(?:\s*(?:%|percent))",
                         re.I),
    "date": re.compile(rf"\b(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+)?"
                       rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}"
                       rf"(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}})|\b(?:Monday|Tuesday|Wednesday|Thursday|"
                       r"Friday|Saturday|Sunday|yesterday|today)\b|\b(?:1[6-9]|20)\d{2}\b"),
}


def _matches(kind: str, sentence: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PATTERNS[kind].finditer(sentence)]


_DIGITS = re.compile(rf"\d[\d,.]*{_SCALE}", re.I)
_TITLE = re.compile(rf"(?:[A-Z]{{2,}}|{alternatives(OFFICES)}|{alternatives(HONORIFICS, dotted=True)})\s+")
_MARKERS = re.compile(MARKER)
_TIME_WORDS = re.compile(rf"^(?:{_MONTH}|{alternatives(WEEKDAYS)})$")


# A news dateline opens a sentence without being part of it: "WASHINGTON —", "Rome, Italy (CNN)".
_DATELINE = re.compile(r"^\s*(?:[A-Z][\w.]*(?:[ ,]+[A-Z][\w.]*)*\s*\((?:CNN|AP|Reuters|AFP)[^)]*\)"
                       r"|[A-Z][A-Z.]+(?:[ ,]+[A-Z][A-Za-z.]+)*\s+[–—-])\s*")
# A title in quotes, without the punctuation inside the closing quote mark.
_QUOTED = re.compile(r"[“\"]([^”\"]{2,80}?)[,.!?]?[”\"]")


def opening(sentence: str) -> int:
    """Where the sentence proper starts: after a dateline and an opening quote mark."""
    match = _DATELINE.match(sentence)
    start = match.end() if match else 0
    return start + len(sentence[start:]) - len(sentence[start:].lstrip("“\"‘'( "))


# Titles and ranks before a name are not the name: "Former Vice President Mike Pence".
_RANK = re.compile(rf"^(?:(?:{alternatives(QUALIFIERS)}|{alternatives(OFFICES)}|{alternatives(ROYALTY)}|"
                   rf"{alternatives(HONORIFICS + MILITARY_RANKS, dotted=True)})\s+)+")
_RANK_BEFORE = re.compile(rf"\b(?:{alternatives(ROYALTY + ('Pope',))})\s+$")
_TRAILING_RANK = re.compile(rf"\s+(?:{alternatives(HONORIFICS + MILITARY_RANKS)})$")
# One run of capitals can hold several names: "Italy's President Sergio Mattarella",
# "the Baltimore Ravens and Lamar Jackson".
_NAME_SPLIT = re.compile(r"[’']s\s+|\s+and\s+")


def _name_parts(sentence: str, start: int, end: int, first: int,
                known: frozenset[str] | None) -> list[tuple[int, int]]:
    """The names inside one run of capitalised words, each without ranks before it."""
    out = []
    cuts = [start] + [x for m in _NAME_SPLIT.finditer(sentence, start, end) for x in m.span()] + [end]
    for a, b in zip(cuts[::2], cuts[1::2]):
        # A word capitalised only because it opens the sentence ("There", "Producers of David
        # Attenborough"), unless the passages write it capitalised elsewhere (`known`; None:
        # trusted). A run of capitals ("Lu Weibing") is a name, whatever opens the sentence.
        if a == first and known is not None:
            word = re.match(r"([\w’'\-]+)(\s+(?:(?:of|the|de|and|&)\s+)+)?", sentence[a:b])
            alone = word.end() == b - a or word.group(2) is not None
            if alone and not word.group(1).isupper() and word.group(1).lower() not in known:
                a += word.end()
        rank = _RANK.match(sentence[a:b])
        if rank and rank.end() < b - a:
            a += rank.end()
        joiner = re.match(r"(?:(?:of|the|de|and|&)\s+)+", sentence[a:b])  # "[President] of Xiaomi"
        if joiner and joiner.end() < b - a:
            a += joiner.end()
        name = sentence[a:b]
        trimmed = _TRAILING_RANK.sub("", re.sub(r"-based$|[’']s$|[’']$", "", name))
        b -= len(name) - len(trimmed)
        if a < b:
            out.append((a, b))
    return out


def _names(sentence: str, person: bool, known: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """Names in the sentence, days and months aside ("Beijing-based" gives "Beijing"), without
    ranks before them; for a person, no acronyms. A dateline is not a name in the sentence, nor
    a word capitalised only because it opens the sentence (see _name_parts)."""
    spans = []
    first = opening(sentence)
    for run_start, run_end in name_spans(sentence):
        if run_start < first:
            continue
        for start, end in _name_parts(sentence, run_start, run_end, first, known):
            name = sentence[start:end]
            if person:
                title = _TITLE.match(name)  # "CEO Tim Cook"
                if title and title.end() < len(name):
                    start, name = start + title.end(), name[title.end():]
                if name.isupper():  # "EV", "SMIC": acronyms are not people
                    continue
            if name and not _TIME_WORDS.match(name):
                spans.append((start, end))
    return spans


_NEXT_WORDS = re.compile(r"^\W*((?:[\w’'\-]+\W+){0,3})")


def _counts(sentence: str, span: tuple[int, int], unit: tuple[str, ...]) -> bool:
    """Whether the words just after the number (up to three) name what is counted."""
    return bool(set(tokenize(_NEXT_WORDS.match(sentence[span[1]:]).group(1))) & set(unit))


def _with_rank(sentence: str, span: tuple[int, int]) -> tuple[int, int]:
    rank = _RANK_BEFORE.search(sentence, 0, span[0])
    alone = " " not in sentence[span[0]:span[1]]
    return (rank.start(), span[1]) if rank and alone else span


def _candidates(sentence: str, focus: QuestionFocus,
                known: frozenset[str] | None = None) -> tuple[list[tuple[int, int]], float]:
    """Spans of the asked type, and how sure the type is (a plain number for "how much" is
    a weaker match than an amount of money)."""
    kind, strength = focus.answer_type, 1.0
    if kind in _PATTERNS:
        spans = _matches(kind, sentence)
        if not spans and kind == "amount":  # "how much did it raise? 2 billion"
            spans = [m.span() for m in _DIGITS.finditer(sentence)]
            strength = weights.WEIGHTS.span.bare_amount
        if spans and kind == "number" and focus.unit:
            # "How many days?": "seven days", not the year beside it; a number of another
            # thing is a weaker answer.
            counting = [s for s in spans if _counts(sentence, s, focus.unit)]
            spans, strength = (counting, 1.0) if counting else (spans, weights.WEIGHTS.span.uncounted)
    else:
        spans = _names(sentence, kind == "person", known)
        if kind != "person":  # titles of shows, songs, books, laws: "Succession", "Break My Soul"
            first = opening(sentence)
            spans += [m.span(1) for m in _QUOTED.finditer(sentence)
                      if len(m.group(1).split()) <= 6 and m.start() >= first]
        if kind == "person":  # a full name, not a lone capitalised word, is a person
            # "Prince William", "Pope Francis": one name after a royal or papal rank is named
            # with it, and is a full name.
            spans = [_with_rank(sentence, s) for s in spans]
            full = [s for s in spans if " " in sentence[s[0]:s[1]]]
            spans, strength = (full, 1.0) if full else (spans, weights.WEIGHTS.span.lone_name)
    given = set(focus.key_terms) | set(focus.terms)
    # A name may repeat the kind asked for: "Northeastern University" for "which university".
    kind_word = set(tokenize(focus.head.split()[-1])) if focus.head else set()
    out = []
    for start, end in spans:
        words = tokenize(sentence[start:end])
        said = {w for w in words if w in given}
        if (words and len(said) * 2 >= len(words) and kind != "role"
                and not (said <= kind_word and len(words) > len(said))):
            continue  # mostly the question's own words: not its answer
        out.append((start, end))
    return out, strength


def answer_span(sentence: str, focus: QuestionFocus) -> tuple[int, int] | None:
    """(start, end) of the answer in `sentence`, or None when nothing of the asked type is there."""
    return best_span(sentence, focus)[0]


def _anchors(sentence: str, focus: QuestionFocus) -> list[int]:
    lowered = sentence.lower()
    return [m.start() for term in focus.terms if len(term) > 2
            for m in re.finditer(re.escape(term[:5]), lowered)]


# A work asked for ("which show", "what painting", "a new song, titled:") is written in quotes in
# news copy: where the sentence quotes a title, the names around it (the network, the museum) are
# not the answer.
_WORKS = frozenset(tokenize("show shows series song single album book novel film movie painting "
                            "play musical franchise documentary podcast sitcom drama opera poem "
                            "titled"))


def _asks_for_work(focus: QuestionFocus) -> bool:
    # The kind asked for when the question names one ("which author's books": an author), else
    # any word of the question ("which of these shows", "titled:").
    words = set(tokenize(focus.head)) if focus.head else set(focus.terms)
    return bool(words & _WORKS)


def _typed(sentence: str, focus: QuestionFocus,
           known: frozenset[str] | None) -> tuple[str, list[tuple[int, int]], float]:
    # Citation markers are not numbers: blanked out, so that offsets still match the text.
    sentence = _MARKERS.sub(lambda m: " " * len(m.group(0)), sentence)
    spans, strength = _candidates(sentence, focus, known)
    spans = list(dict.fromkeys((a, b) for a, b in spans if 0 <= a < b <= len(sentence)))
    if focus.answer_type in ("name", "other") and _asks_for_work(focus):
        titles = {m.span(1) for m in _QUOTED.finditer(sentence)}
        spans = [s for s in spans if s in titles] or spans
    return sentence, spans, strength


def best_span(sentence: str, focus: QuestionFocus,
              known: frozenset[str] | None = None) -> tuple[tuple[int, int] | None, float]:
    """The answer span and how well it matches the asked type (0 when there is none): of the
    candidates, the one nearest the question's own words."""
    if focus.answer_type in ("reason", "statement"):  # answered by a clause, not a span
        return None, 0.0
    sentence, spans, strength = _typed(sentence, focus, known)
    if not spans:
        return None, 0.0
    anchors = _anchors(sentence, focus)
    if not anchors:
        return spans[0], strength
    return min(spans, key=lambda s: min(abs(s[0] - a) for a in anchors)), strength


# A name or title asked for by its kind ("which planet", "which team"): each candidate's
# meaning against the kind, and its nearness to the question's words (weights.SpanWeights).
_NAME_KINDS = ("name", "person", "place", "other")


def _near(span: tuple[int, int], anchors: list[int]) -> float:
    """1 next to a word of the question, falling off with the characters between."""
    if not anchors:
        return 0.0
    gap = min(min(abs(span[0] - a), abs(span[1] - a)) for a in anchors)
    return 1.0 / (1.0 + gap / weights.WEIGHTS.span.near_falloff_chars)


def mark_span(sentence: str, focus: QuestionFocus, encode: Callable[[list[str]], np.ndarray] | None,
              known: frozenset[str] | None = None) -> tuple[tuple[int, int] | None, float | None]:
    """The answer span of a sentence, and how near in meaning it is to the kind of thing asked
    for (None when that was not measured). For a name asked by its kind ("which planet"), the
    candidate whose meaning is nearest that kind ("Jupiter", not "There" or "NASA"), with
    nearness to the question's words second; `encode` gives unit vectors of short texts.
    Otherwise, or without `encode`, best_span's choice."""
    if encode is None or focus.head is None or focus.answer_type not in _NAME_KINDS:
        return best_span(sentence, focus, known)[0], None
    sentence, spans, _ = _typed(sentence, focus, known)
    if not spans:
        return None, None
    words = focus.head.split()
    # "which show took home": the head may run into a verb; its shortest prefix is the noun's
    # modifier or the noun, so the best of the prefixes stands for the kind.
    kinds = [" ".join(words[:n]) for n in range(1, len(words) + 1)]
    vectors = encode(kinds + [sentence[a:b] for a, b in spans])
    similarity = (vectors[len(kinds):] @ vectors[:len(kinds)].T).max(axis=1)
    anchors = _anchors(sentence, focus)
    w = weights.WEIGHTS.span
    scores = [w.kind * float(sim) + w.near * _near(span, anchors) for span, sim in zip(spans, similarity)]
    best = int(np.argmax(scores))
    return spans[best], float(similarity[best])


def span_in_answer(text: str, focus: QuestionFocus) -> tuple[int, int] | None:
    """The answer span of a whole answer (an LLM's): in its first claim that holds one."""
    from rag.ingest.sentences import claim_spans

    for start, end in claim_spans(text):
        span = answer_span(text[start:end], focus)
        if span is not None:
            return start + span[0], start + span[1]
    return None
