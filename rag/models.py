"""The answer the service gives, the same object for the CLI, the HTTP API and the web chat."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AnswerMode = Literal["llm", "extractive", "extractive-fallback", "refusal"]


class Citation(BaseModel):
    n: int = Field(description="The [n] marker in the answer text")
    article_id: str
    title: str
    published: str | None = Field(None, description="ISO 8601 publication date, when known")
    source: str = Field(description="The article's file in the seeds folder")
    url: str | None = None
    quote: str = Field(description="The whole passage the answer rests on")
    highlight: str | None = Field(None, description="The sentence of the quote that supports the answer")
    score: float = Field(description="Retrieval score of the passage, 0..1")


class NearbyArticle(BaseModel):
    article_id: str
    title: str
    published: str | None = None
    source: str
    score: float


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Answer(BaseModel):
    answer: str
    refused: bool
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
