"""The product's errors: what went wrong, in words a user can act on, and the HTTP status it maps
to. The HTTP app maps them once (rag.web.app); the CLI and the web chat catch `RagError` and show
`str(error)`. Anything else that escapes is a bug, not a user error."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error a user may see. `status` is the HTTP status the API answers with."""

    status = 500
    default_message = "the request failed"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


class BadRequest(RagError):
    status = 400
    default_message = "bad request"


class BadQuestion(BadRequest):
    """The question is empty, too long or not text."""


class BadFilter(BadRequest):
    """A filter or date that cannot be understood (a date that is not a date, for instance)."""


class Unauthorized(RagError):
    status = 401
    default_message = "missing or wrong API key: send 'Authorization: Bearer <key>'"


class Forbidden(RagError):
    status = 403
    default_message = "not allowed"


class RebuildInProgress(RagError):
    status = 409
    default_message = "a rebuild is already running"


class SeedsUnavailable(RagError):
    """The seeds folder is missing or cannot be read: rebuilding from it would empty the index,
    so nothing is changed."""

    status = 409
    default_message = "the seeds folder is missing or cannot be read; the index is unchanged"


class RemovalNeedsConfirmation(RagError):
    """A rebuild would remove every article, or more than half of them: it stops unless the
    caller confirms (a wrong path or an unmounted volume looks exactly like this)."""

    status = 409
    default_message = "this rebuild would remove most of the index; confirm to go on"


class IndexNotReady(RagError):
    status = 503
    default_message = "the index is not built yet; try again shortly"


class IndexMismatch(RagError):
    """The serving index was built with another embedder than this server's."""

    status = 503
    default_message = "the serving index was built with another embedder"


class EmbedderUnavailable(RagError):
    """The embedding model or server failed while embedding a question."""

    status = 503
    default_message = "the embedder is unavailable"


class ConfigError(RagError):
    """A setting the product cannot run with (named in the message)."""

    status = 500
    default_message = "bad configuration"


class StoreUnavailable(RagError):
    """The Chroma store (server or folder) cannot be reached or read."""

    status = 503
    default_message = "the index store is unavailable"


class LlmError(RagError):
    """The LLM server failed, timed out or returned something unusable. Never reaches a user as
    an error: the answer falls back to the extractive one."""

    status = 502
    default_message = "the LLM server failed"


class NotFound(RagError):
    status = 404
    default_message = "not found"


class ConversationNotFound(NotFound):
    default_message = "no such conversation"


class AnswerNotFound(NotFound):
    default_message = "no such answer"


class DatabaseUnavailable(RagError):
    """The conversations database (RAG_DATABASE_URL) cannot be reached or written."""

    status = 503
    default_message = "the conversations database is unavailable"
