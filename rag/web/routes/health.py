"""/healthz: for load balancers and start-up scripts, so it needs no API key."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from rag.errors import IndexMismatch, StoreUnavailable
from rag.web.deps import ServiceDep
from rag.web.schemas import ErrorBody

router = APIRouter(tags=["health"])


def _not_ready(status: str, error: str) -> JSONResponse:
    # Not the RagError handler's shape: probes read `status` as well as `error`.
    return JSONResponse({"status": status, "error": error}, status_code=503)


@router.get("/healthz", responses={503: {"model": ErrorBody}})
def healthz(service: ServiceDep):
    """200 with article and chunk counts once an index is loaded; 503 before."""
    try:
        service.refresh()
    except StoreUnavailable as exc:
        return _not_ready("unavailable", str(exc))
    status = service.status()
    if not status["ready"]:
        return _not_ready("loading", "no index loaded yet")
    if not service.warm:
        return _not_ready("loading", "loading the embedding model")
    try:
        service.check_vector_space()
    except IndexMismatch as exc:  # every answer would fail: take this worker out of rotation
        return _not_ready("mismatch", str(exc))
    return {"status": "ok", "articles": status["articles"], "chunks": status["chunks"],
            "snapshot": status["snapshot"]}
