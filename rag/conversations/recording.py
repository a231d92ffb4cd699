"""Keeping each answered question in its conversation, as the answer streams out."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Iterator

from rag.conversations.store import ConversationStore
from rag.errors import RagError
from rag.models import AnswerEvent, Final

log = logging.getLogger(__name__)


def recorded(store: ConversationStore, events: Iterator[AnswerEvent], conversation_id: str | None,
             question: str, asked_at: datetime, answer_id: str) -> Iterator[AnswerEvent]:
    """The service's events, with the final answer written to the database before it goes out,
    so that a rating sent the moment the answer arrives finds it. A database that fails then
    costs the ids, not the answer: the reader still gets it, and the log says why."""
    for event in events:
        if isinstance(event, Final):
            answer = event.answer
            started = time.perf_counter()
            try:
                answer.conversation_id = store.record(answer_id, conversation_id, question,
                                                      asked_at, answer)
                answer.answer_id = answer_id
                answer.timings["record_ms"] = round((time.perf_counter() - started) * 1000, 1)
            except RagError as exc:
                log.error("the answer was not kept in its conversation: %s", exc)
        yield event
