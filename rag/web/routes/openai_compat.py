"""The OpenAI-compatible API (/v1), so that OpenAI's clients and tools can ask this product."""

from __future__ import annotations

import time
from typing import Iterator

from fastapi import APIRouter, Depends
from fastapi.sse import ServerSentEvent
from openai.types import CompletionUsage, Model
from openai.types.chat import ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta

from rag.errors import BadRequest
from rag.models import Answer, AnswerEvent, Delta, Final, Reset, Turn, new_id
from rag.web.deps import ServiceDep, require_key
from rag.web.schemas import (ChatCompletionRequest, CitedChatCompletion, CitedChatCompletionChunk,
                             ModelList, error_responses)
from rag.web.streaming import StreamFailed, event_stream, safe, started

MODEL_ID = "newsrag"
router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_key)])
# OpenAI's stream cannot take text back: these say plainly what happened instead.
RESET_NOTE = "\n\n(The LLM answer failed its checks; extractive answer:)\n\n"
STREAM_DOC = {"content": {"text/event-stream": {"itemSchema": {
    "type": "object", "required": ["data"], "description": "With `stream: true`: chunks, then `[DONE]`",
    "properties": {"data": {"type": "string"}}}}}}


@router.get("/models", response_model=ModelList, responses=error_responses(401))
def models() -> ModelList:
    """OpenAI-compatible model list: one model, this product."""
    return ModelList(data=[Model(id=MODEL_ID, object="model", created=0, owned_by="newsrag")])


# exclude_unset: only what is set goes out, like OpenAI's replies, not every optional field as null.
@router.post("/chat/completions", response_model=CitedChatCompletion, response_model_exclude_unset=True,
             responses={**error_responses(400, 401, 422, 503), 200: STREAM_DOC})
def chat_completions(body: ChatCompletionRequest, service: ServiceDep):
    """OpenAI-compatible chat: the last user message is the question, earlier user and
    assistant messages are the history. The answer keeps its [n] markers; the cited
    passages travel in the extra `citations` field (on the last chunk when streaming).
    The extra request field `as_of` (OpenAI's SDK: `extra_body={"as_of": "2025-11-20"}`) sets
    the moment the question is asked: articles published later are left out.
    Each answer is kept in a conversation; the completion's `id` is the answer's id, to rate it
    at /api/feedback (the extra `conversation_id` field continues a stored conversation)."""
    question, history = _chat_turns(body)
    answer_id = new_id()
    if body.stream:
        events = started(service.converse(question, body.conversation_id, history, body.top_k,
                                          as_of=body.as_of, answer_id=answer_id))
        return event_stream(_chunk_events(events, body.model, answer_id))
    answer = service.converse_answer(question, body.conversation_id, history, body.top_k,
                                     as_of=body.as_of, answer_id=answer_id)
    return CitedChatCompletion(
        id=answer_id, object="chat.completion", created=int(time.time()), model=body.model,
        choices=[Choice(index=0, finish_reason="stop",
                        message=ChatCompletionMessage(role="assistant", content=answer.answer))],
        usage=CompletionUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
        citations=_whole(answer), refused=answer.refused, conversation_id=answer.conversation_id,
    )


def _whole(answer: Answer) -> list[dict]:
    """Citations as dicts with every key: validated from those, every field counts as set, so
    exclude_unset keeps their nulls and they have the same shape as /api/answer's."""
    return [c.model_dump() for c in answer.citations]


def _chat_turns(body: ChatCompletionRequest) -> tuple[str, list[Turn]]:
    turns = [Turn(role=m.role, content=m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise BadRequest("the last message must come from the user")
    return turns[-1].content, turns[:-1]


def _chunk_events(events: Iterator[AnswerEvent], model: str, ident: str) -> Iterator[ServerSentEvent]:
    """OpenAI's wire format: unnamed events whose data is a chunk, then `data: [DONE]`. The
    sentinel is not JSON, so it goes as `raw_data`; chunks go as `raw_data` too, dumped with
    exclude_unset so that unset optional fields are left out rather than sent as nulls."""
    created = int(time.time())

    def chunk(delta: ChoiceDelta, finish: str | None = None, answer: Answer | None = None) -> ServerSentEvent:
        extras = {"citations": _whole(answer), "refused": answer.refused,
                  "conversation_id": answer.conversation_id} if answer else {}
        payload = CitedChatCompletionChunk(
            id=ident, object="chat.completion.chunk", created=created, model=model,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)], **extras)
        return ServerSentEvent(raw_data=payload.model_dump_json(exclude_unset=True))

    yield chunk(ChoiceDelta(role="assistant", content=""))
    for event in safe(events):
        match event:
            case Delta(text=text):
                yield chunk(ChoiceDelta(content=text))
            case Reset():
                yield chunk(ChoiceDelta(content=RESET_NOTE))
            case StreamFailed(error=error):
                yield chunk(ChoiceDelta(content=f"\n\n(error: {error})"))
            case Final(answer=answer):
                yield chunk(ChoiceDelta(), "stop", answer)
    yield ServerSentEvent(raw_data="[DONE]")
