"""HTTP routes: parse, check, delegate to the service, shape the reply. No answering logic here."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from typing import Iterator

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from rag.web.schemas import (AnswerRequest, AnswerResponse, ChatChoice, ChatCompletion,
                            ChatCompletionMessage, ChatCompletionRequest, ErrorBody, IndexState)
from rag.access import is_loopback
from rag.errors import BadFilter, BadQuestion, IndexNotReady, RebuildInProgress, StoreUnavailable
from rag.models import Answer, Filters, Turn
from rag.service import RagService

MODEL_ID = "newsrag"
ERRORS = {400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 503: {"model": ErrorBody}}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def create_app(service: RagService, bind_host: str = "127.0.0.1") -> FastAPI:
    app = FastAPI(
        title="News Q&A",
        description="Cited answers over a folder of news articles. Every answer carries the "
                    "passages it rests on; questions the articles do not cover are refused.",
        version="0.1.0",
    )
    app.state.service = service
    app.state.bind_host = bind_host

    def require_key(request: Request) -> None:
        key = service.settings.api_key
        if not key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'")

    auth = [Depends(require_key)]

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg')}")
        return JSONResponse({"error": "; ".join(problems) or "invalid request"}, status_code=422)

    def guarded(call):
        try:
            return call()
        except (BadQuestion, BadFilter) as exc:
            raise ApiError(400, str(exc)) from exc
        except IndexNotReady as exc:
            raise ApiError(503, f"{exc}; try again shortly") from exc
        except StoreUnavailable as exc:
            raise ApiError(503, f"the index store is unavailable: {exc}") from exc

    @app.get("/healthz", responses={503: {"model": ErrorBody}})
    def healthz():
        """200 with article and chunk counts once an index is loaded; 503 before."""
        try:
            service.refresh()
        except StoreUnavailable as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        status = service.status()
        if not status["ready"]:
            return JSONResponse({"status": "loading", "error": "no index loaded yet"}, status_code=503)
        if not service.warm:
            return JSONResponse({"status": "loading", "error": "loading the embedding model"}, status_code=503)
        return {"status": "ok", "articles": status["articles"], "chunks": status["chunks"],
                "snapshot": status["snapshot"]}

    def _filters(body: AnswerRequest) -> Filters | None:
        if body.filters is None:
            return None
        filters = Filters(**body.filters.model_dump())
        guarded(filters.bounds)  # a bad date is a 400 before any work starts
        return filters

    @app.post("/api/answer", dependencies=auth, response_model=AnswerResponse, responses=ERRORS)
    def answer(body: AnswerRequest,
               stream: bool = Query(False, description="Stream as server-sent events")):
        """Answer a question with cited passages.

        With `?stream=true` the reply is `text/event-stream`: `delta` events carry text to append,
        `reset` means discard the text so far (an LLM answer was replaced by the extractive one),
        then one `citations` event and one `end` event with the whole answer object."""
        filters = _filters(body)
        if stream:
            return answer_stream(body, filters)
        return guarded(lambda: service.answer(body.question, body.history, body.top_k, filters))

    @app.post("/api/answer/stream", dependencies=auth, responses=ERRORS, response_class=StreamingResponse)
    def answer_stream_route(body: AnswerRequest):
        """The same as `/api/answer?stream=true`."""
        return answer_stream(body, _filters(body))

    def answer_stream(body: AnswerRequest, filters: Filters | None) -> StreamingResponse:
        events = guarded(lambda: _first_checked(service.stream(body.question, body.history,
                                                               body.top_k, filters)))

        def sse() -> Iterator[str]:
            for event in _safe(events):
                if event["event"] == "answer":
                    answer: Answer = event["answer"]
                    cites = [c.model_dump() for c in answer.citations]
                    yield _sse("citations", {"citations": cites})
                    yield _sse("end", answer.model_dump())
                elif event["event"] in ("delta", "reset", "error"):
                    yield _sse(event["event"], {k: v for k, v in event.items() if k != "event"})
        return StreamingResponse(sse(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/index", dependencies=auth, response_model=IndexState, responses=ERRORS)
    def index_state():
        """The serving index (articles, chunks, when built) and the rebuild state: idle, running
        (with stage and progress) or failed (with the error), and the last rebuild's summary."""
        try:
            service.refresh()
        except StoreUnavailable:
            pass
        return service.status()

    @app.post("/api/index/rebuild", dependencies=auth, status_code=202, responses={**ERRORS, 403: {"model": ErrorBody},
                                                                 409: {"model": ErrorBody}})
    def rebuild():
        """Start an incremental rebuild from the seeds folder in the background and return at once.
        Questions keep being answered from the current index until the new one is complete.
        Refused unless an API key is set or the server listens on loopback only."""
        if not service.settings.api_key and not is_loopback(app.state.bind_host):
            raise ApiError(403, "rebuilding over HTTP needs RAG_API_KEY when the server is not on loopback")
        try:
            service.start_rebuild()
        except RebuildInProgress as exc:
            raise ApiError(409, str(exc)) from exc
        return {"state": "running", "status_url": "/api/index"}

    @app.get("/v1/models", dependencies=auth)
    def models():
        """OpenAI-compatible model list: one model, this product."""
        return {"object": "list", "data": [
            {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "newsrag"}]}

    @app.post("/v1/chat/completions", dependencies=auth, responses=ERRORS)
    def chat_completions(body: ChatCompletionRequest):
        """OpenAI-compatible chat: the last user message is the question, earlier user and
        assistant messages are the history. The answer keeps its [n] markers; the cited
        passages travel in the extra `citations` field (on the last chunk when streaming)."""
        question, history = _chat_turns(body)
        if body.stream:
            events = guarded(lambda: _first_checked(service.stream(question, history, body.top_k)))
            return StreamingResponse(_chat_stream(events, body.model), media_type="text/event-stream")
        answer = guarded(lambda: service.answer(question, history, body.top_k))
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex[:24]}", created=int(time.time()), model=body.model,
            choices=[ChatChoice(message=ChatCompletionMessage(content=answer.answer))],
            citations=answer.citations, refused=answer.refused,
        )

    return app


def _chat_turns(body: ChatCompletionRequest) -> tuple[str, list[Turn]]:
    turns = [Turn(role=m.role, content=m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "the last message must come from the user")
    return turns[-1].content, turns[:-1]


def _first_checked(events: Iterator[dict]) -> Iterator[dict]:
    """Run the generator to its first event so that bad input fails before the stream starts
    (as a 4xx), not inside a 200 stream."""
    first = next(events)

    def chained():
        yield first
        yield from events
    return chained()


def _safe(events: Iterator[dict]) -> Iterator[dict]:
    """A failure after the stream began cannot change the status code: report it as an event."""
    try:
        yield from events
    except Exception as exc:  # already streaming: the client gets an error event, not a cut
        yield {"event": "error", "error": f"{type(exc).__name__}: {exc}"}


def _sse(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _chat_stream(events: Iterator[dict], model: str) -> Iterator[str]:
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        payload = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for event in _safe(events):
        if event["event"] == "delta":
            yield chunk({"content": event["text"]})
        elif event["event"] == "reset":
            # OpenAI's stream cannot take text back: say plainly that a replacement follows.
            yield chunk({"content": "\n\n(The LLM answer failed its checks; extractive answer:)\n\n"})
        elif event["event"] == "error":
            yield chunk({"content": f"\n\n(error: {event['error']})"})
        elif event["event"] == "answer":
            answer: Answer = event["answer"]
            yield chunk({}, "stop", citations=[c.model_dump() for c in answer.citations],
                        refused=answer.refused)
    yield "data: [DONE]\n\n"
