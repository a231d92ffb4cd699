"""The HTTP app: the routers over one service, and the one place errors become responses. The
routes parse, delegate to the service and shape the reply; no answering logic here."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import RagError
from rag.service import RagService
from rag.web.routes import answers, conversations, health, index, openai_compat

log = logging.getLogger(__name__)


def create_app(service: RagService, bind_host: str = "127.0.0.1") -> FastAPI:
    app = FastAPI(
        title="News Q&A",
        description="Cited answers over a folder of news articles. Every answer carries the "
                    "passages it rests on; questions the articles do not cover are refused.",
        version="0.1.0",
    )
    app.state.service = service
    # Read by the rebuild route and the web chat (rag.access decides who may change the index).
    app.state.bind_host = bind_host
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    for module in (health, answers, conversations, index, openai_compat):
        app.include_router(module.router)
    return app


async def _rag_error(_: Request, exc: RagError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)


async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
    # FastAPI's own refusals (a body that is not JSON, a wrong method) in the same shape as ours.
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # A bug, not a user error: the same JSON shape, no internals in the reply, the trace in the log.
    log.error("unexpected error answering a request", exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    # One error shape for the whole API: {"error": "..."} naming each field, not FastAPI's `detail`.
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {err.get('msg')}")
    return JSONResponse({"error": "; ".join(problems) or "invalid request"}, status_code=422)
