"""The index: what is being served, and starting a rebuild."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.access import may_change_index
from rag.errors import Forbidden, StoreUnavailable
from rag.web.deps import BindHostDep, ServiceDep, require_key
from rag.web.schemas import IndexState, RebuildRequest, RebuildStarted, error_responses

router = APIRouter(prefix="/api/index", tags=["index"], dependencies=[Depends(require_key)])


@router.get("", response_model=IndexState, responses=error_responses(401))
def index_state(service: ServiceDep):
    """The serving index (articles, chunks, when built) and the rebuild state: idle, running
    (with stage and progress) or failed (with the error), and the last rebuild's summary."""
    try:
        service.refresh()
    except StoreUnavailable:
        pass  # still worth answering: the rebuild state and the last index known are in memory
    return service.status()


@router.post("/rebuild", status_code=202, response_model=RebuildStarted,
             responses=error_responses(400, 401, 403, 409))
def rebuild(service: ServiceDep, bind_host: BindHostDep,
            body: RebuildRequest | None = None) -> RebuildStarted:
    """Start an incremental rebuild from the seeds folder in the background and return at once.
    Questions keep being answered from the current index until the new one is complete.
    A rebuild that would remove every article or more than half of them stops and changes
    nothing unless the body says `{"confirm_removal": true}`; so does one whose seeds folder is
    missing. Either way /api/index then says why (`rebuild.state` "failed", `rebuild.error`).
    Refused unless an API key is set or the server listens on loopback only."""
    settings = service.settings
    # require_key already ran for this router: with a key configured, the caller's was checked.
    if not may_change_index(settings, bind_host, key_checked=bool(settings.api_key)):
        raise Forbidden("rebuilding over HTTP needs RAG_API_KEY when the server is not on loopback")
    service.start_rebuild(confirm_removal=bool(body and body.confirm_removal),
                          changed=body.changed if body else None)
    return RebuildStarted()
