"""What the routes get injected: the service, the bind address, the API-key check, and request
bodies checked against the service's own limits."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

from rag.errors import BadQuestion, Unauthorized
from rag.service import RagService
from rag.web.schemas import AnswerRequest


def get_service(request: Request) -> RagService:
    return request.app.state.service


def get_bind_host(request: Request) -> str:
    return request.app.state.bind_host


ServiceDep = Annotated[RagService, Depends(get_service)]
BindHostDep = Annotated[str, Depends(get_bind_host)]


def require_key(request: Request, service: ServiceDep) -> None:
    """With RAG_API_KEY set, every route that uses this needs `Authorization: Bearer <key>`."""
    key = service.settings.api_key
    if not key:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken must not tell how much of a guessed key was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise Unauthorized()


def checked_answer_request(body: AnswerRequest, service: ServiceDep) -> AnswerRequest:
    """The question's length limit is a service setting, so the schema cannot carry it; a
    question the service would refuse is reported like any other malformed body (422, naming
    the field) rather than as the service's 400."""
    try:
        service.validate(body.question)
    except BadQuestion as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "question"),
                                       "msg": str(exc), "input": body.question}]) from exc
    return body


AnswerBody = Annotated[AnswerRequest, Depends(checked_answer_request)]
