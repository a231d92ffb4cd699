"""Request and response shapes of the HTTP API (they also write the OpenAPI docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.models import Answer, Citation, Turn

MAX_HISTORY_TURNS = 50
MAX_QUESTION_CHARS = 2000


class AnswerFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_after: str | None = Field(None, description="Only articles published on or after (YYYY-MM-DD)")
    published_before: str | None = Field(None, description="Only articles published on or before (YYYY-MM-DD)")
    source: str | None = Field(None, description="Only articles from this seeds file or folder", max_length=500)


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in plain words", max_length=MAX_QUESTION_CHARS,
                          examples=["How many electric vehicles does Xiaomi plan to deliver in 2025?"])
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description="Earlier turns, oldest first, for follow-up questions")
    top_k: int | None = Field(None, ge=1, le=20, description="How many passages to use (default 5)")
    filters: AnswerFilters | None = None

    @field_validator("question")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is empty")
        return value


class AnswerResponse(Answer):
    pass


class IndexState(BaseModel):
    ready: bool
    articles: int
    chunks: int
    snapshot: str | None
    built_at: float | None = Field(None, description="Unix time the serving index was built")
    last_build: str | None = None
    rebuild: dict[str, Any]


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
    top_k: int | None = Field(None, ge=1, le=20)


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatCompletionMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict[str, int] = Field(default_factory=lambda: {
        "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    citations: list[Citation] = Field(default_factory=list, description="Extra: the cited passages")
    refused: bool = Field(False, description="Extra: the articles do not cover the question")


class ErrorBody(BaseModel):
    error: str
