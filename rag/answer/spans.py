"""The answer within a sentence: the name, number, date or place the question asks for, as a
character span. Candidates of the asked type that the question does not already say; of those,
the one nearest the question's own words in the sentence."""

from __future__ import annotations

import re

from rag.answer.question_type import QuestionFocus, name_spans
from rag.index.lexical import tokenize

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_SCALE = r"(?:\s+(?:million|billion|trillion|thousand|hundred)\b)?"
_NUMBER_WORDS = (r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                 r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
                 r"hundred|dozens?|half)\b")
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
_TITLE = re.compile(r"(?:[A-Z]{2,}|President|Prime Minister|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Gov\.?|"
                    r"Sen\.?|Rep\.?|Chancellor|Pope|Judge|Coach)\s+")
_MARKERS = re.compile(r"\[\d+\]")
_TIME_WORDS = re.compile(rf"^(?:{_MONTH}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$")


def _names(sentence: str, person: bool) -> list[tuple[int, int]]:
    """Names in the sentence, days and months aside ("Beijing-based" gives "Beijing"); for a
    person, without a leading title, and no acronyms."""
    spans = []
    for start, end in name_spans(sentence):
        name = sentence[start:end]
        trimmed = re.sub(r"-based$|[’']s$", "", name)
        end -= len(name) - len(trimmed)
        name = trimmed
        if person:
            title = _TITLE.match(name)
            if title and title.end() < len(name):
                start, name = start + title.end(), name[title.end():]
            if name.isupper():  # "EV", "SMIC": acronyms are not people
                continue
        if name and not _TIME_WORDS.match(name):
            spans.append((start, end))
    return spans


def _candidates(sentence: str, focus: QuestionFocus) -> tuple[list[tuple[int, int]], float]:
    """Spans of the asked type, and how sure the type is (a plain number for "how much" is
    a weaker match than an amount of money)."""
    kind, strength = focus.answer_type, 1.0
    if kind in _PATTERNS:
        spans = _matches(kind, sentence)
        if not spans and kind == "amount":  # "how much did it raise? 2 billion"
            spans = [m.span() for m in _DIGITS.finditer(sentence)]
            strength = 0.25
    else:
        spans = _names(sentence, kind == "person")
        if kind == "person":  # a full name, not a lone capitalised word, is a person
            full = [s for s in spans if " " in sentence[s[0]:s[1]]]
            spans, strength = (full, 1.0) if full else (spans, 0.5)
    given = set(focus.key_terms) | set(focus.terms)
    out = []
    for start, end in spans:
        words = tokenize(sentence[start:end])
        if words and sum(w in given for w in words) * 2 >= len(words) and kind != "role":
            continue  # mostly the question's own words: not its answer
        out.append((start, end))
    return out, strength


def answer_span(sentence: str, focus: QuestionFocus) -> tuple[int, int] | None:
    """(start, end) of the answer in `sentence`, or None when nothing of the asked type is there."""
    return best_span(sentence, focus)[0]


def best_span(sentence: str, focus: QuestionFocus) -> tuple[tuple[int, int] | None, float]:
    """The answer span and how well it matches the asked type (0 when there is none)."""
    if focus.answer_type in ("reason", "statement"):  # answered by a clause, not a span
        return None, 0.0
    # Citation markers are not numbers: blanked out, so that offsets still match the text.
    sentence = _MARKERS.sub(lambda m: " " * len(m.group(0)), sentence)
    spans, strength = _candidates(sentence, focus)
    if not spans:
        return None, 0.0
    lowered = sentence.lower()
    anchors = [m.start() for term in focus.terms if len(term) > 2
               for m in re.finditer(re.escape(term[:5]), lowered)]
    spans = [(a, b) for a, b in spans if 0 <= a < b <= len(sentence)]
    if not spans:
        return None, 0.0
    if not anchors:
        return spans[0], strength
    return min(spans, key=lambda s: min(abs(s[0] - a) for a in anchors)), strength


def span_in_answer(text: str, focus: QuestionFocus) -> tuple[int, int] | None:
    """The answer span of a whole answer (an LLM's): in its first claim that holds one."""
    from rag.ingest.sentences import claim_spans

    for start, end in claim_spans(text):
        span = answer_span(text[start:end], focus)
        if span is not None:
            return start + span[0], start + span[1]
    return None
