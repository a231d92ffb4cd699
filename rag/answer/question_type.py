"""What a question asks for: the type of its answer (a person, a number, an amount, a date, a
place, a name, an explanation), and its key terms: the names and numbers an article must hold to
be about the question's subject at all ("Tesla" is not "Xiaomi")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rag.index.lexical import tokenize

# Words of asking, not of the subject: they must not count as the question's terms.
QUESTION_WORDS = frozenset(tokenize(
    "who whom whose what which when where why how many much did does do is are was were will "
    "would could should can has have had tell me please name according"))

_TYPES = (
    # "Who is Lei Jun?": the answer is what the person is (founder, chief executive), not a name.
    # Words separated by required spaces: no way to split a run of capitals two ways (backtracking).
    ("role", re.compile(r"^\s*[Ww]ho\s+(?:is|was|are|were)\s+[A-Z][\w’'.\-]*(?:\s+[A-Z][\w’'.\-]*)*"
                        r"\s*\??\s*$")),
    ("number", re.compile(r"\bhow (?:many|long|old|far|big|large|tall|often|fast|high|deep)\b|"
                          r"\b(?:what|which) (?:percentage|percent|share|number|age)\b|"
                          r"\bby how much\b", re.I)),
    ("amount", re.compile(r"\bhow much\b|\b(?:what|which) (?:price|cost|amount|sum|value)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which) (?:date|day|month|year|time)\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which) (?:country|city|state|region|island|nation|"
                         r"place|town|continent)\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b", re.I)),
    ("reason", re.compile(r"\bwhy\b|\bhow (?:did|does|do|is|are|was|were|can|could|will|would)\b", re.I)),
    # "What did she say about ...": the answer is a statement, not a name.
    ("statement", re.compile(r"\bwhat (?:did|does|do|has|have|had|will|would) .*\b(?:say|said|tell|"
                             r"announce|report|reveal|claim|warn|mean|think|show|find|found|"
                             r"expect|plan|argue|write|predict)\b", re.I)),
)
# Money and counts asked with "what", or with no question word at all ("Xiaomi EV profit?").
# Only when the question names no other noun it asks for: "which pop singer ... set a record"
# asks for a singer, "which popular food" (its rising cost) for a food.
_BY_KEYWORD = (
    ("amount", re.compile(r"\b(?:earn|earned|earnings|profit|profits|revenue|sales|price|cost|"
                          r"worth|valuation|salary|fine|budget|deal)\b", re.I)),
    ("number", re.compile(r"\b(?:target|goal|forecast|estimate|total|tally|score|rate|figure|"
                          r"count|population|record)\b", re.I)),
)
_WHICH = re.compile(r"\b(?:what|which)\b", re.I)
_QUESTION_MARK = re.compile(r"\?[\"”’')\]]*\s*$")
_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)
# A sentence ends before a capital, but not after an abbreviation ("Sen.", "Jan.") or initial.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Z][a-z]\.)(?<!\b[A-Z]\.)(?<!\b[A-Z][a-z][a-z]\.)"
                             r"\s+(?=[\"“‘']?[A-Z])")
# Names: capitalised words (with inner capitals, hyphens and apostrophes), joined by "of", "de",
# "the" and the like inside a name. Sentence-initial words are names only if capitalised inside
# the question too.
# Words joined by single spaces only: a blanked-out citation marker or a line break ends a name.
_NAME = re.compile(r"\b[A-Z][\w’'\-]*(?: (?:(?:of|de|du|van|von|al|bin|the|and|&) )?[A-Z][\w’'\-]*)*")
_NUMBER = re.compile(r"(?<![\w-])(?:\d[\d,.]*\d|\d)(?![\w-])")  # not "Covid-19" or "SU7"

_NOT_NAMES = frozenset("""a an the this that these those what which who whom whose when where why how
is are was were do does did will would can could should has have had in on at of for to from by
with as and or but if i you he she it we they its their his her our my your true false according
after before since during""".split())


# What a question asks for; "name" is a "which ..." whose kind is not a person or a place.
AnswerType = Literal["role", "number", "amount", "date", "place", "person", "reason", "statement",
                     "name", "other"]


@dataclass(frozen=True)
class QuestionFocus:
    answer_type: AnswerType
    names: tuple[str, ...]  # the names the question itself mentions, as written
    numbers: tuple[str, ...]
    terms: tuple[str, ...]  # stemmed content words, question words left out
    head: str | None = None  # what the answer is ("which Chinese chipmaker": "Chinese chipmaker")
    unit: tuple[str, ...] = ()  # what is counted, stemmed ("how many days": "day")

    @property
    def key_terms(self) -> tuple[str, ...]:
        """The stemmed words of its names and its numbers: the subject an answer must be about."""
        out: list[str] = []
        for name in self.names:
            out += [t for t in tokenize(name) if t not in QUESTION_WORDS]
        return tuple(dict.fromkeys(out + [n.replace(",", "") for n in self.numbers]))


def asking_clause(question: str) -> str:
    """The sentence of a question that asks: quiz questions open with context ("Cindy Williams,
    who played Shirley, died at 75. She also appeared in which of these films?")."""
    sentences = [s for s in _SENTENCE_BREAK.split(question.strip()) if s.strip()]
    if len(sentences) < 2:
        return question
    # "Who is Lei Jun? Keep it short.": the sentence with the question mark, else the last
    # with a question word, else the last ("She was a special assistant to:").
    for asks in (_QUESTION_MARK, _WH_WORD):
        for sentence in reversed(sentences):
            if asks.search(sentence):
                return sentence
    return sentences[-1]


def answer_type(question: str) -> AnswerType:
    question = asking_clause(question)
    noun = _asked_noun(question)
    for name, pattern in _TYPES:
        match = pattern.search(question)
        # "West, who changed his name, is buying which platform?", "injured when a crane
        # collapsed in which city?": a "who" or "when" inside the sentence is relative; the
        # noun after "which" is what is asked.
        if match and noun and match.start() > 0 and not _WHICH.match(match.group(0)):
            continue
        if match:
            return name
    for name, pattern in _BY_KEYWORD:
        if pattern.search(question) and (noun is None or (pattern.search(noun)
                                                          and not _is_person(noun))):
            return name
    return "name" if _WHICH.search(question) else "other"


def name_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each name in the text, leading words that are not names ("The", "On")
    left out."""
    out = []
    for match in _NAME.finditer(text):
        start = match.start()
        for word in re.finditer(r"\S+", match.group(0)):
            if word.group(0).lower() not in _NOT_NAMES:
                break
            start = match.start() + word.end()
        start += len(text[start:match.end()]) - len(text[start:match.end()].lstrip())
        if start < match.end():
            out.append((start, match.end()))
    return out


def names_in(text: str) -> list[str]:
    return [text[start:end] for start, end in name_spans(text)]


# Words that end the noun after "which" or "what": verbs, adverbs, prepositions, clause words.
_HEAD_STOP = frozenset("""is are was were be been do does did has have had will would can could
should may might must of in on at by for from to into with about after before since during that
which who whom whose where when why how and or but than as this these its their his her
recently currently now just also still already said says announced
got made won took gave went came saw became began left held hit set led ran fell sold paid lost
told found kept met put brought bought built sent spent broke chose drew wrote rose""".split())
# After these, "which" or "what" starts a relative clause ("in which he won") or asks no noun.
_AUXILIARY = frozenset("""is are was were do does did has have had will would can could should one
he she it they we you i there""".split())
# For the questions that name no noun: the kind of thing a person, place or time is.
_TYPE_HEADS = {"person": "person", "place": "place"}


def head_noun(question: str) -> str | None:
    """The noun a "which"/"what" question asks for, with its modifiers: "which popular singer
    will..." gives "popular singer"; "what is it" gives none. Up to three words, ended by a verb
    form, an adverb, a function word or punctuation ("which company's stock" gives "company").
    For a question that names none, the kind of a person or place asked for."""
    return _asked_noun(asking_clause(question)) or _TYPE_HEADS.get(answer_type(question))


def _asked_noun(question: str) -> str | None:
    # "What is their destination?", "What is the rule called?": the noun after the article.
    # "Which of these films": the noun after the partitive.
    pattern = (r"\b(?:which|what)\s+(?:(?:is|was|are|were)\s+(?:the|its|their|his|her)\s+|"
               r"of\s+(?:the\s+following|the|these|those|its|their|his|her)(?:\s+|\b))?([^?.,;:!\"“”]*)")
    for match in re.finditer(pattern, question, re.I):
        words = match.group(1).split()
        if not words or words[0].lower() in _AUXILIARY:
            continue
        out: list[str] = []
        for word in words:
            possessive = re.search(r"[’']s$", word) is not None
            word = re.sub(r"[’']s$", "", word)
            lowered = word.lower()
            if (lowered in _HEAD_STOP or (lowered.endswith("ly") and len(lowered) > 4)
                    or lowered.endswith("ed")):
                break
            out.append(word)
            if possessive or len(out) == 3:
                break
        if out:
            return " ".join(out)
    return None


# "Which NFL star", "which professional golfer": a person asked by what they are, so a full name
# and not the team, tour or institution named beside it.
_PEOPLE = frozenset("""star celebrity athlete player golfer boxer swimmer driver quarterback
footballer coach singer rapper musician actor actress comedian artist author writer novelist
director filmmaker producer host presenter journalist anchor broadcaster pundit candidate
politician lawmaker senator congressman congresswoman mp minister leader governor mayor justice
judge billionaire entrepreneur executive ceo founder astronaut scientist activist chef
monarch""".split())


def _kind_word(noun: str) -> str:
    """The noun's last word in the singular: "which Asian nations" -> "nation"."""
    return re.sub(r"s$", "", noun.split()[-1].lower())


def _is_person(noun: str) -> bool:
    # "Which public figure" asks for a person; "what figure" for a number.
    last = _kind_word(noun)
    return last in _PEOPLE or (last == "figure" and len(noun.split()) > 1)


# "Which major city", "which Asian nation": a place asked by its kind.
_PLACES = frozenset("""country city state region island nation place town continent county
province capital village""".split())


def _asked_kind(kind: AnswerType, head: str | None) -> AnswerType:
    if kind == "name" and head and _is_person(head):
        return "person"
    if kind == "name" and head and _kind_word(head) in _PLACES:
        return "place"
    return kind


_COUNTED = re.compile(r"\bhow many\s+([^?.,;:!]*)", re.I)


def counted(question: str) -> tuple[str, ...]:
    """The stemmed words of what a "how many" question counts: up to three words after it,
    ended by a verb or function word ("how many cars did Xiaomi deliver": "car")."""
    match = _COUNTED.search(asking_clause(question))
    words: list[str] = []
    for word in (match.group(1).split() if match else []):
        if word.lower() in _HEAD_STOP or len(words) == 3:
            break
        words.append(word)
    return tuple(tokenize(" ".join(words)))


@lru_cache(maxsize=512)
def read_focus(question: str) -> QuestionFocus:
    """Cached: the gate, the sentence picker and the span all read the same question."""
    terms = tuple(t for t in tokenize(question) if t not in QUESTION_WORDS)
    head = head_noun(question)
    return QuestionFocus(_asked_kind(answer_type(question), head),
                         tuple(dict.fromkeys(names_in(question))),
                         tuple(dict.fromkeys(_NUMBER.findall(question))), terms, head,
                         counted(question))
