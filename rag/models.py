"""The answer the service gives, the same object for the CLI, the HTTP API and the web chat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time as dtime, timezone
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from rag.errors import BadFilter
from rag.ingest.dates import parse_date, to_timestamp
from rag.ingest.urls import safe_url

AnswerMode = Literal["llm", "extractive", "extractive-fallback", "refusal"]


class Copy(BaseModel):
    """Another article telling the same story (a syndicated or near-identical copy)."""

    article_id: str
    title: str
    published: str | None = None
    source: str
    url: str | None = None

    @field_validator("url", mode="before")
    @classmethod
    def _http_only(cls, value: object) -> str | None:
        return safe_url(value)


class Citation(BaseModel):
    n: int = Field(description="The [n] marker in the answer text")
    article_id: str
    title: str
    published: str | None = Field(None, description="ISO 8601 publication date, when known")
    source: str = Field(description="The article's file in the seeds folder")
    url: str | None = Field(None, description="The article's web address: http(s) only, else null")
    quote: str = Field(description="The whole passage the answer rests on")
    highlight: str | None = Field(None, description="The sentence of the quote that supports the answer")
    score: float = Field(description="Retrieval score of the passage, 0..1")
    also_in: list[Copy] = Field(default_factory=list,
                                description="Near-identical copies of the article (syndication)")

    # Here rather than at ingest only: an index built before ingest checked URLs still holds them.
    @field_validator("url", mode="before")
    @classmethod
    def _http_only(cls, value: object) -> str | None:
        return safe_url(value)


class NearbyArticle(BaseModel):
    article_id: str
    title: str
    published: str | None = None
    source: str
    score: float


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AnswerSpan(BaseModel):
    """Where the answer itself (the name, number, date or place asked for) sits in `answer`."""

    start: int = Field(ge=0, description="Character offset of the span's first character")
    end: int = Field(ge=0, description="Character offset just past the span")


class Answer(BaseModel):
    answer: str
    refused: bool
    answer_span: AnswerSpan | None = Field(
        None, description="The answer within `answer` (character offsets; `answer` has no markup)")
    citations: list[Citation] = Field(default_factory=list)
    mode: AnswerMode
    fallback_reason: str | None = Field(
        None, description="Why the LLM answer was replaced by the extractive one")
    query: str = Field(description="The standalone question that was searched")
    unsupported: list[str] = Field(
        default_factory=list, description="Sentences of an LLM answer that cite no passage")
    nearby: list[NearbyArticle] = Field(
        default_factory=list, description="On a refusal: the closest articles that were found")
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage")
    answer_id: str | None = Field(
        None, description="This answer's id, to rate it (POST /api/feedback); null when it was not kept")
    conversation_id: str | None = Field(
        None, description="The conversation it belongs to: send it back to continue the conversation")


@dataclass(frozen=True)
class Delta:
    """Text to append to the answer shown so far."""

    text: str


@dataclass(frozen=True)
class Reset:
    """Discard the text shown so far: what follows replaces it (an LLM answer was replaced)."""


@dataclass(frozen=True)
class Final:
    """The whole answer; always the last event of a stream."""

    answer: Answer


AnswerEvent = Delta | Reset | Final


@dataclass
class Filters:
    """Which articles a question may draw on."""

    published_after: str | None = None
    published_before: str | None = None
    source: str | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        """Unix-time bounds; BadFilter for a date that is not a date."""
        return _bound(self.published_after, "published_after", end=False), _bound(
            self.published_before, "published_before", end=True)

    @property
    def empty(self) -> bool:
        return not (self.published_after or self.published_before or self.source)


def _bound(value: str | None, name: str, end: bool) -> float | None:
    if not value:
        return None
    iso = parse_date(value)
    if iso is None:
        raise BadFilter(f"{name}: '{value}' is not a date (use YYYY-MM-DD)")
    stamp = datetime.fromisoformat(iso)
    if end and stamp.time() == dtime(0, 0) and len(value.strip()) <= 10:
        stamp = stamp.replace(hour=23, minute=59, second=59)  # a whole day is inclusive
    return float(to_timestamp(stamp.isoformat()))


def parse_as_of(value: object) -> datetime:
    """The moment a question is asked, as an aware UTC datetime: now when None. A date alone
    means the end of that day; a time without a zone is UTC. BadFilter when it is not a time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return datetime.now(timezone.utc)
    text = value.isoformat() if isinstance(value, datetime) else str(value).strip()
    try:
        if isinstance(value, datetime):
            stamp = value
        else:
            stamp = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            if len(text) <= 10:
                stamp = stamp.replace(hour=23, minute=59, second=59)  # the whole day has happened
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: a zone that moves it past year 1 or 9999
        raise BadFilter(f"as_of: '{shorten(text, 60)}' is not a date or time "
                        "(use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def new_id() -> str:
    """An answer's or a conversation's id: 32 hex digits, unguessable."""
    return uuid.uuid4().hex


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
