"""A small OpenAI-compatible chat server on loopback that plays a scripted model, or records and
forwards every request to a real server. The product talks to it over real HTTP, as to any LLM."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Callable

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

Script = Callable[[list[dict]], str]


class ScriptedLLM:
    def __init__(self, port: int):
        self.port = port
        self.requests: list[dict] = []
        self.reply: Script = lambda messages: "Nothing to say [1]."
        self.delay_s = 0.0
        self.garbage = False
        self.status = 200
        self.forward_to: str | None = None
        # /v1/embeddings: `embed` (texts -> vectors) when a test sets it, else hashed bags of
        # words as wide as `widths[model]` or `width`, so tests can play models of any width.
        self.embed = None
        self.width = 384
        self.widths: dict[str, int] = {}
        self.app = self._app()
        self._server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        def models():
            return {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]}

        @app.post("/v1/embeddings")
        async def embeddings(request: Request):
            """Plays an embeddings server: the test's `embed` (the bundled MiniLM, as a GPU box
            would run it), or hashed bags of words of the model's width."""
            body = await request.json()
            self.requests.append(body)
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = self._embed(body.get("model", "scripted"), texts)
            return {"object": "list", "model": body.get("model", "scripted"),
                    "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                             for i, v in enumerate(vectors)],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0}}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            if self.forward_to:
                return await self._forward(body)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.status != 200:
                return JSONResponse({"error": {"message": "scripted failure"}}, status_code=self.status)
            if self.garbage:
                return PlainTextResponse("<html>502 Bad Gateway</html>" if not body.get("stream")
                                         else "data: {not json\n\n", media_type="text/event-stream"
                                         if body.get("stream") else "text/html")
            text = self.reply(body["messages"])
            if body.get("stream"):
                return StreamingResponse(self._stream(text, body.get("model", "scripted")),
                                         media_type="text/event-stream")
            return {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

        return app

    def _embed(self, model: str, texts: list[str]):
        if self.embed is not None:
            return self.embed(texts)
        from tests.fakes import FakeEmbedder

        return FakeEmbedder(self.widths.get(model, self.width)).embed(texts)

    async def _forward(self, body: dict):
        async with httpx.AsyncClient(timeout=120) as client:
            reply = await client.post(f"{self.forward_to}/chat/completions", json=body)
        if body.get("stream"):
            return PlainTextResponse(reply.text, media_type="text/event-stream",
                                     status_code=reply.status_code)
        return JSONResponse(reply.json(), status_code=reply.status_code)

    @staticmethod
    def _stream(text: str, model: str):
        pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
        for piece in pieces:
            chunk = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        done = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(done)}\n\n"
        yield "data: [DONE]\n\n"

    def reset(self) -> None:
        self.requests.clear()
        self.reply = lambda messages: "Nothing to say [1]."
        self.delay_s, self.garbage, self.status, self.forward_to = 0.0, False, 200, None
        self.embed, self.width, self.widths = None, 384, {}

    def start(self) -> "ScriptedLLM":
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                httpx.get(f"{self.base_url}/models", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("scripted LLM server did not start")

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
