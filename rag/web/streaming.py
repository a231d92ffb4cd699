"""Server-sent events over FastAPI's own SSE support (fastapi.sse), and the two rules every
stream here follows: fail before the response starts, never cut a started stream short."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from fastapi.encoders import jsonable_encoder
from fastapi.sse import EventSourceResponse, ServerSentEvent, format_sse_event

from rag.models import AnswerEvent

# Proxies (nginx) buffer responses by default, which would hold back every delta until the end.
NO_BUFFERING = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True)
class StreamFailed:
    """A failure after a stream began, which cannot change the status code any more."""

    error: str


def started(events: Iterator[AnswerEvent]) -> Iterator[AnswerEvent]:
    """Run the service's generator to its first event now, while the status code can still
    change: bad input or a missing index then fails as a 4xx/503 (through the RagError handler),
    not inside a 200 stream."""
    first = next(events)

    def chained() -> Iterator[AnswerEvent]:
        yield first
        yield from events
    return chained()


def safe(events: Iterator[AnswerEvent]) -> Iterator[AnswerEvent | StreamFailed]:
    """A failure after the stream began cannot change the status code: report it as an event."""
    try:
        yield from events
    except Exception as exc:  # already streaming: the client gets an error event, not a cut
        yield StreamFailed(f"{type(exc).__name__}: {exc}")


def event_stream(events: Iterable[ServerSentEvent]) -> EventSourceResponse:
    """An SSE response from a route that answers either JSON or a stream, depending on the
    request. FastAPI encodes `ServerSentEvent`s itself only for generator path operations,
    which cannot also return JSON, so these routes encode with FastAPI's formatter the way its
    router does (`raw_data` as is, `data` as JSON)."""
    return EventSourceResponse(_encode(events), headers=NO_BUFFERING)


def _encode(events: Iterable[ServerSentEvent]) -> Iterator[bytes]:
    for item in events:
        if item.raw_data is not None:
            data = item.raw_data
        elif item.data is None:
            data = None
        elif hasattr(item.data, "model_dump_json"):
            data = item.data.model_dump_json()
        else:
            data = json.dumps(jsonable_encoder(item.data))
        yield format_sse_event(data_str=data, event=item.event, id=item.id, retry=item.retry,
                               comment=item.comment)
