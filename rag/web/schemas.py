"""Request and response shapes of the HTTP API (they also write the OpenAPI docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.config import MAX_COMMENT_CHARS, MAX_HISTORY_TURNS, TOP_K_MAX, TOP_K_MIN
from rag.models import Answer, Citation, Turn

AS_OF_DOC = ("The moment the question is asked: YYYY-MM-DD (end of that day) or "
             "YYYY-MM-DDTHH:MM[:SS][+zone] (UTC when no zone); default now. "
             "Articles published later are left out.")
# Long enough for any ISO time with a zone; a longer value is no time, and would only be echoed.
AS_OF_MAX_CHARS = 64


class AnswerFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_after: str | None = Field(None, description="Only articles published on or after (YYYY-MM-DD)")
    published_before: str | None = Field(None, description="Only articles published on or before (YYYY-MM-DD)")
    source: str | None = Field(None, description="Only articles from this seeds file or folder", max_length=500)


ID_PATTERN = r"^[0-9a-f]{32}$"


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No max_length: the limit is the service's setting (RAG_MAX_QUESTION_CHARS), checked per
    # request in rag.web.deps, so a deployment that raises it is not capped by a constant here.
    question: str = Field(description="The question, in plain words; at most RAG_MAX_QUESTION_CHARS "
                                      "characters (2000 by default)",
                          examples=["How many electric vehicles does Xiaomi plan to deliver in 2025?"])
    conversation_id: str | None = Field(
        None, pattern=ID_PATTERN, description="Continue this conversation (the `conversation_id` of "
        "an earlier answer): its stored turns are the history. Unset: a new conversation")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description="Earlier turns, oldest first, for follow-up questions "
                                            "(used when the conversation has no stored turns)")
    top_k: int | None = Field(None, ge=TOP_K_MIN, le=TOP_K_MAX, description="How many passages to use (default 5)")
    filters: AnswerFilters | None = None
    # A string checked by the service (rag.models.parse_as_of), not a pydantic datetime: a date
    # alone means the end of that day, which pydantic would read as midnight.
    as_of: str | None = Field(None, max_length=AS_OF_MAX_CHARS, description=AS_OF_DOC,
                              examples=["2025-11-20", "2025-11-20T18:00+01:00"])

    @field_validator("question")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is empty")
        return value


class AnswerResponse(Answer):
    pass


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(pattern=ID_PATTERN, description="The `answer_id` of the answer rated")
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS,
                                description="What was wrong (or right) with the answer")


class FeedbackRecorded(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None
    rated_at: datetime


class ConversationHead(BaseModel):
    id: str
    title: str = Field(description="The conversation's first question, shortened")
    created: datetime
    updated: datetime


class ConversationSummary(ConversationHead):
    turns: int = Field(description="How many questions it holds")


class ConversationTurn(BaseModel):
    answer_id: str
    question: str
    asked_at: datetime = Field(description="The moment the question was asked as (its as_of)")
    created_at: datetime
    answer: str
    refused: bool
    mode: str
    citations: list[Citation]
    rating: Literal["up", "down"] | None
    comment: str | None


class ConversationDetail(ConversationHead):
    turns: list[ConversationTurn] = Field(description="Oldest first")


class IndexState(BaseModel):
    ready: bool
    articles: int
    chunks: int
    snapshot: str | None
    built_at: float | None = Field(None, description="Unix time the serving index was built")
    last_build: str | None = None
    rebuild: dict[str, Any]


class RebuildRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm_removal: bool = Field(
        False, description="Go on even when the rebuild would remove every article or more than "
                           "half of them (without it such a rebuild stops, changes nothing, and "
                           "/api/index says why)")
    changed: list[Annotated[str, Field(min_length=1, max_length=1000)]] | None = Field(
        None, max_length=10_000,
        description="The files added, edited or deleted since the last rebuild, as paths in the "
                    "seeds folder: only those are read (the whole folder is, where the update "
                    "needs it). Without it the whole folder is scanned")


class RebuildStarted(BaseModel):
    state: Literal["running"] = "running"
    status_url: str = Field("/api/index", description="Poll this for the rebuild's progress")


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.get("text", "") for part in self.content if isinstance(part, dict))
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completions request; fields this product does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = "newsrag"
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_HISTORY_TURNS + 1)
    stream: bool = False
    top_k: int | None = Field(None, ge=TOP_K_MIN, le=TOP_K_MAX)
    # An extra of this product; OpenAI's SDK sends it with `extra_body={"as_of": ...}`.
    as_of: str | None = Field(None, max_length=AS_OF_MAX_CHARS, description=f"Extra: {AS_OF_DOC}")
    conversation_id: str | None = Field(None, pattern=ID_PATTERN, description=(
        "Extra: continue this stored conversation (its history is the stored one)"))


# OpenAI's own response types, so that the wire shape follows the SDK that clients parse it
# with; the two extras ride along as declared fields (clients see them in `model_extra`).
class CitedChatCompletion(ChatCompletion):
    citations: list[Citation] = Field(default_factory=list, description="Extra: the cited passages")
    refused: bool = Field(False, description="Extra: the articles do not cover the question")
    conversation_id: str | None = Field(None, description="Extra: the conversation the answer was kept in")


class CitedChatCompletionChunk(ChatCompletionChunk):
    citations: list[Citation] | None = Field(None, description="Extra, on the last chunk: the cited passages")
    refused: bool | None = Field(None, description="Extra, on the last chunk: the articles do not cover the question")
    conversation_id: str | None = Field(None, description="Extra, on the last chunk: the conversation the answer was kept in")


class ModelList(BaseModel):
    # The SDK has no model-list type of its own (it reads the list as a page of `Model`s).
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorBody(BaseModel):
    error: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may answer. Every error body is ErrorBody,
    422 included: the app's validation handler replaces FastAPI's own shape."""
    return {code: {"model": ErrorBody} for code in codes}
