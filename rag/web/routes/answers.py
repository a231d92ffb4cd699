"""/api/answer: a cited answer as JSON, or streamed as server-sent events."""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import APIRouter, Depends, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from rag.models import AnswerEvent, Delta, Filters, Final, Reset
from rag.web.deps import AnswerBody, ServiceDep, require_key
from rag.web.schemas import AnswerRequest, AnswerResponse, ErrorBody, error_responses
from rag.web.streaming import StreamFailed, event_stream, safe, started

router = APIRouter(tags=["answers"], dependencies=[Depends(require_key)])
ERRORS = error_responses(400, 401, 404, 422, 503)
# FastAPI files a response `model` under the route's own media type, which for the SSE route is
# text/event-stream; its errors are JSON all the same.
STREAM_ERRORS = {code: {"content": {"application/json": {
    "schema": ErrorBody.model_json_schema()}}} for code in ERRORS}
# OpenAPI 3.2's itemSchema, as FastAPI writes it for its own SSE routes: one object per event.
STREAM_DOC = {"content": {"text/event-stream": {"itemSchema": {
    "type": "object", "required": ["event", "data"], "properties": {
        "event": {"type": "string", "enum": ["delta", "reset", "citations", "end", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"}}}}}}


def _filters(body: AnswerRequest) -> Filters | None:
    return Filters(**body.filters.model_dump()) if body.filters is not None else None


def opened_stream(body: AnswerBody, service: ServiceDep) -> Iterator[AnswerEvent]:
    """A dependency, so that it runs before the response starts (see `started`)."""
    return started(service.converse(body.question, body.conversation_id, body.history, body.top_k,
                                    _filters(body), as_of=body.as_of))


def answer_events(events: Iterator[AnswerEvent]) -> Iterator[ServerSentEvent]:
    for event in safe(events):
        match event:
            case Delta(text=text):
                yield ServerSentEvent(event="delta", data={"text": text})
            case Reset():
                yield ServerSentEvent(event="reset", data={})
            case StreamFailed(error=error):
                yield ServerSentEvent(event="error", data={"error": error})
            case Final(answer=answer):
                yield ServerSentEvent(event="citations", data={"citations": answer.citations})
                yield ServerSentEvent(event="end", data=answer)


@router.post("/api/answer", response_model=AnswerResponse, responses={**ERRORS, 200: STREAM_DOC})
def answer(body: AnswerBody, service: ServiceDep,
           stream: Annotated[bool, Query(description="Stream as server-sent events")] = False):
    """Answer a question with cited passages. The answer is kept in its conversation: the reply
    carries `answer_id` (rate it at /api/feedback) and `conversation_id` (send it back to ask a
    follow-up in the same conversation; an unknown one is 404).

    With `?stream=true` the reply is `text/event-stream`: `delta` events carry text to append,
    `reset` means discard the text so far (an LLM answer was replaced by the extractive one),
    then one `citations` event and one `end` event with the whole answer object."""
    if stream:
        return event_stream(answer_events(opened_stream(body, service)))
    return service.converse_answer(body.question, body.conversation_id, body.history, body.top_k,
                                   _filters(body), as_of=body.as_of)


@router.post("/api/answer/stream", response_class=EventSourceResponse,
             responses={**STREAM_ERRORS, 200: STREAM_DOC})
def answer_stream(events: Annotated[Iterator[AnswerEvent], Depends(opened_stream)]) -> Iterator[ServerSentEvent]:
    """The same as `/api/answer?stream=true`."""
    yield from answer_events(events)
