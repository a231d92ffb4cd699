"""One process: the JSON API, the OpenAI-compatible API and the web chat over one service."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from rag.config import Settings

log = logging.getLogger("rag.web.server")


def _prepare(service, build: bool) -> None:
    """Load the embedder, serve the existing index, then bring it up to date with the seeds
    folder. /healthz turns 200 only once the index is loaded, so the model must come first:
    otherwise the first questions would wait for it."""
    service.warm_up()
    try:
        service.refresh(force=True)
    except Exception as exc:
        log.warning("could not load the index yet: %s", exc)
    if build:
        try:
            summary = service.rebuild()
            print(f"index: {summary.line()}", flush=True)
        except Exception as exc:
            # The index that was loaded above keeps serving; /api/index shows the same reason.
            log.error("the index was not updated: %s; serving the index as it was", exc)


def build_app(settings: Settings, bind_host: str = "127.0.0.1", build: bool = False, ui: bool = True):
    from rag.web.app import create_app
    from rag.service import RagService

    service = RagService(settings)
    app = create_app(service, bind_host)

    @asynccontextmanager
    async def lifespan(_app):
        threading.Thread(target=_prepare, args=(service, build), daemon=True, name="prepare").start()
        yield

    app.router.lifespan_context = lifespan
    if ui:
        from ui.app import mount_ui

        mount_ui(app, service)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, build: bool = True) -> int:
    import uvicorn

    app = build_app(settings, bind_host=host, build=build)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"News Q&A: open http://{shown}:{port}/  (API docs at /docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
