"""What a question says about time: an explicit window ("in March 2024", "last week",
"yesterday", "since June", "in 2022") read by dateparser relative to the moment the question is
asked, a vague one ("this week", "recently") that only weights, and whether it asks for the
current state of things ("who is the chief executive", "latest").

dateparser finds dates in words that are not dates ("may" the verb, "the march on", "the 98th"),
so a match is kept only when it carries a date anchor: a year, a capitalised month name with a
day or a preposition, or a relative word."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from rag.lexicon import MONTH

DAY = 86400.0
# Questions about "this week" in news are about the days just before they are asked.
VAGUE_DAYS = 7

_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_CAPITAL_MONTH = re.compile(rf"\b{MONTH}\b")  # case-sensitive on purpose: "may", "march"
_RELATIVE = re.compile(r"\b(?:yesterday|ago|last|past|previous)\b", re.I)
_PREPOSITION = re.compile(r"\b(?:in|on|since|after|before|until|till|during|from|between|early|"
                          r"late|mid)\s*$", re.I)
_BOUND_WORDS = re.compile(r"\b(?:since|after|before|until|till)\b", re.I)
_SINCE = re.compile(r"\b(?:since|after|from)\s*$", re.I)
_BEFORE = re.compile(r"\b(?:before|until|till|prior to)\s*$", re.I)
# A cheap gate: most questions name no time at all and never reach the parser.
_MAY_HOLD_A_DATE = re.compile(rf"\d|\b{MONTH}\b|yesterday|\bago\b|\blast\b|\bpast\b|\bprevious\b",
                              re.I)
_VAGUE = re.compile(r"\b(?:this (?:week|weekend|month)|recent(?:ly)?|lately|these days|today|"
                    r"tonight|so far this year)\b", re.I)
_LATEST = re.compile(r"\b(?:latest|newest|most recent|current(?:ly)?|now|still|today|this week|"
                     r"recent(?:ly)?|(?:who|what) (?:is|are|'s) the)\b", re.I)
# Asks for the state of things now, or the newest news: the newest article on the subject answers,
# however old it is (a narrower cue than _LATEST, which only weighs recency more).
_CURRENT = re.compile(r"\b(?:latest|newest|most recent(?:ly)?|current(?:ly)?|now|at present|"
                      r"these days|still|to date|any ?more)\b", re.I)


@dataclass(frozen=True)
class DateWindow:
    start: float | None  # unix time; None: open
    end: float  # unix time, never after the as-of time
    explicit: bool  # named in the question: it excludes what came before it; vague ones weight only
    phrase: str


@dataclass(frozen=True)
class QuestionTime:
    as_of: float
    window: DateWindow | None
    wants_latest: bool
    wants_current: bool = False  # "now", "latest": the newest article on the subject answers
    # The window the question names weighs articles and no longer excludes them: nothing in it
    # answered, and a year in a question often says when something happens ("a shortage that
    # could hit cars in 2026"), not when it was reported.
    window_as_weight: bool = False

    @property
    def window_excludes(self) -> bool:
        """Whether the window cuts the articles published before it."""
        return self.window is not None and self.window.explicit and self.window.start is not None

    def weighing_only(self) -> "QuestionTime":
        if self.window is None or not self.window.explicit:
            return self
        return replace(self, window=replace(self.window, explicit=False), window_as_weight=True)


def read_question_time(question: str, as_of: datetime, windows: bool = True) -> QuestionTime:
    """`windows=False` keeps only the as-of time (the times a question names are not read)."""
    stamp = as_of.timestamp()
    window = None
    if windows:
        try:
            window = _explicit_window(question, as_of)
        except (ValueError, OverflowError):  # an as-of time at the edge of the calendar
            window = None
        window = window or _vague_window(question, stamp)
    return QuestionTime(stamp, window, bool(_LATEST.search(question)),
                        bool(_CURRENT.search(question)))


def _vague_window(question: str, as_of: float) -> DateWindow | None:
    match = _VAGUE.search(question)
    if not match:
        return None
    return DateWindow(as_of - VAGUE_DAYS * DAY, as_of, False, match.group(0))


def _explicit_window(question: str, as_of: datetime) -> DateWindow | None:
    if not _MAY_HOLD_A_DATE.search(question):
        return None
    for phrase, when in _search(question, as_of.replace(tzinfo=None)):
        if not _anchored(question, phrase):
            continue
        start, end = _period_bounds(when, _period(phrase))
        before = question[: question.find(phrase)]
        if _SINCE.search(before):
            end = as_of.timestamp()
        elif _BEFORE.search(before):
            start, end = None, start
        end = min(end, as_of.timestamp())
        if start is not None and start > end:
            continue  # a window wholly after the question was asked says nothing usable
        return DateWindow(start, end, True, phrase.strip())
    return None


def _anchored(question: str, phrase: str) -> bool:
    """A time the question is about, not a word that merely parses as one: a relative time
    ("last week", "3 days ago"), or a date after a time preposition ("in 2022", "on November
    20", "since June"). A year naming an event ("the 2022 Emmys", "his 2020 loss") is not when
    the question's news happened; nor is "may" the verb or "march" the noun (month names count
    only capitalised)."""
    if _RELATIVE.search(phrase):
        return True
    if not (_YEAR.search(phrase) or _CAPITAL_MONTH.search(phrase)):
        return False
    start = question.find(phrase)
    leading = re.match(r"\s*(\w+)\s+", phrase)
    if leading and _PREPOSITION.search(leading.group(1)):
        return True
    return bool(_PREPOSITION.search(question[:start]))


def _period_bounds(when: datetime, period: str) -> tuple[float, float]:
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        start, end = day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1)
    elif period == "month":
        start = day.replace(day=1)
        end = start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    elif period == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start, end = day, day + timedelta(days=1)
    utc = timezone.utc
    return start.replace(tzinfo=utc).timestamp(), end.replace(tzinfo=utc).timestamp() - 1


def _settings(base: datetime) -> dict:
    return {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False,
            "REQUIRE_PARTS": []}


def _search(question: str, base: datetime) -> list[tuple[str, datetime]]:
    from dateparser.search import search_dates

    # dateparser reads "before May 2023" as two dates (May of this year, and 2023): the bound
    # words are blanked out (same length, so that offsets still match the question).
    blanked = _BOUND_WORDS.sub(lambda m: " " * len(m.group(0)), question)
    return search_dates(blanked, languages=["en"], settings=_settings(base)) or []


def _period(phrase: str) -> str:
    """'day', 'week', 'month' or 'year': how much time the phrase names."""
    data = _date_parser().get_date_data(phrase.strip())
    return (data.period if data.date_obj is not None else None) or "day"


@lru_cache(maxsize=1)
def _date_parser():
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"])


def warm_up() -> None:
    """dateparser loads its language data on first use (about 0.1 s): do it before a question."""
    read_question_time("what happened in March 2024", datetime.now(timezone.utc))
