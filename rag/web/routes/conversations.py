"""Stored conversations and the readers' ratings of answers."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from rag.config import CONVERSATIONS_LIST_MAX
from rag.web.deps import ServiceDep, require_key
from rag.web.schemas import (ConversationDetail, ConversationSummary, FeedbackRecorded,
                             FeedbackRequest, error_responses)

router = APIRouter(tags=["conversations"], dependencies=[Depends(require_key)])


@router.post("/api/feedback", status_code=201, response_model=FeedbackRecorded,
             responses=error_responses(401, 404, 422, 503))
def feedback(body: FeedbackRequest, service: ServiceDep) -> FeedbackRecorded:
    """Rate an answer up or down, with an optional comment. Rating it again replaces the rating."""
    rated_at = service.conversations.rate(body.answer_id, body.rating, body.comment)
    return FeedbackRecorded(answer_id=body.answer_id, rating=body.rating, comment=body.comment,
                            rated_at=rated_at)


@router.get("/api/conversations", response_model=list[ConversationSummary],
            responses=error_responses(401, 422, 503))
def conversations(service: ServiceDep,
                  limit: Annotated[int, Query(ge=1, le=CONVERSATIONS_LIST_MAX)] = 50) -> list[dict]:
    """The stored conversations, the most recently continued first."""
    return service.conversations.conversations(limit)


@router.get("/api/conversations/{conversation_id}", response_model=ConversationDetail,
            responses=error_responses(401, 404, 503))
def conversation(conversation_id: str, service: ServiceDep) -> dict:
    """One conversation: every question with its answer, citations, answer id and rating."""
    head, turns = service.conversations.conversation(conversation_id)
    return head | {"turns": [dataclasses.asdict(turn) for turn in turns]}


@router.delete("/api/conversations/{conversation_id}", status_code=204,
               responses=error_responses(401, 404, 503))
def delete_conversation(conversation_id: str, service: ServiceDep) -> Response:
    """Delete a conversation with its answers and their ratings."""
    service.conversations.delete(conversation_id)
    return Response(status_code=204)
