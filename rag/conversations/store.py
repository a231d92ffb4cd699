"""Conversations, their answers and the readers' ratings: what the API, the web chat and the
CLI read and write, in domain terms. Every write is one transaction."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import wraps

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from rag.config import CONVERSATIONS_LIST_MAX, MAX_COMMENT_CHARS
from rag.conversations import database
from rag.conversations.tables import RATINGS, answers, conversations, ratings
from rag.errors import AnswerNotFound, BadRequest, ConversationNotFound, DatabaseUnavailable
from rag.models import Answer, Turn, new_id, shorten

log = logging.getLogger(__name__)
TITLE_CHARS = 80


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands times back without their zone; every time written here is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _head(row) -> dict:
    return {"id": row.id, "title": row.title, "created": _utc(row.created_at),
            "updated": _utc(row.updated_at)}


def _database_errors(method):
    @wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError, ProgrammingError) as exc:
            raise DatabaseUnavailable(f"the conversations database is unavailable: "
                                      f"{type(exc.orig or exc).__name__}") from exc
    return wrapper


@dataclass
class RecordedTurn:
    answer_id: str
    conversation_id: str
    question: str
    answer: str
    refused: bool
    mode: str
    asked_at: datetime
    created_at: datetime
    citations: list[dict] = field(default_factory=list)
    rating: str | None = None
    comment: str | None = None
    rated_at: datetime | None = None


class ConversationStore:
    def __init__(self, url: str):
        self.url = url
        self._engine: Engine | None = None
        self._ready = threading.Lock()

    @property
    def engine(self) -> Engine:
        """Made and migrated on first use, once per process (workers take turns migrating)."""
        if self._engine is None:
            with self._ready:
                if self._engine is None:
                    try:
                        engine = database.make_engine(self.url)
                        database.migrate(engine)
                    except (OperationalError, InterfaceError) as exc:
                        raise DatabaseUnavailable(
                            f"the conversations database is unavailable: {exc.orig or exc}") from exc
                    except OSError as exc:  # the SQLite file's folder cannot be made
                        raise DatabaseUnavailable(
                            f"the conversations database is unavailable: {exc}") from exc
                    self._engine = engine
        return self._engine

    def open(self) -> None:
        """Connect and migrate now (at server start) rather than on the first answer."""
        _ = self.engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # --- writing -----------------------------------------------------------------------------

    @_database_errors
    def history(self, conversation_id: str, limit: int) -> list[Turn]:
        """The conversation's last `limit` turns (question and answer each), oldest first."""
        with self.engine.connect() as connection:
            self._require(connection, conversation_id)
            rows = connection.execute(
                select(answers.c.question, answers.c.answer)
                .where(answers.c.conversation_id == conversation_id)
                .order_by(answers.c.created_at.desc(), answers.c.id.desc()).limit(max(1, limit // 2))
            ).all()
        turns: list[Turn] = []
        for question, answer in reversed(rows):
            turns += [Turn(role="user", content=question), Turn(role="assistant", content=answer)]
        return turns[-limit:] if limit else []

    @_database_errors
    def record(self, answer_id: str, conversation_id: str | None, question: str, asked_at: datetime,
               answer: Answer) -> str:
        """Store one answered question; a new conversation when `conversation_id` is None.
        Returns the conversation's id."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as connection:
            if conversation_id is None:
                conversation_id = new_id()
                connection.execute(conversations.insert().values(
                    id=conversation_id, title=shorten(question, TITLE_CHARS), created_at=now,
                    updated_at=now))
            else:
                moved = connection.execute(update(conversations).where(
                    conversations.c.id == conversation_id).values(updated_at=now)).rowcount
                if not moved:  # deleted while its question was being answered
                    raise ConversationNotFound()
            connection.execute(answers.insert().values(
                id=answer_id, conversation_id=conversation_id, question=question,
                asked_at=asked_at, created_at=now, answer=answer.answer, refused=answer.refused,
                mode=answer.mode, query=answer.query,
                citations=[c.model_dump(mode="json") for c in answer.citations]))
        return conversation_id

    @_database_errors
    def rate(self, answer_id: str, rating: str, comment: str | None) -> datetime:
        """Record a reader's rating; a second rating of the same answer replaces the first,
        atomically, so two at once leave one of them, never an error."""
        if rating not in RATINGS:
            raise BadRequest(f"rating must be one of {', '.join(RATINGS)}")
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise BadRequest(f"comment is longer than {MAX_COMMENT_CHARS} characters")
        now = datetime.now(timezone.utc)
        values = {"answer_id": answer_id, "rating": rating, "comment": comment, "rated_at": now}
        dialect = self.engine.dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
        try:
            with self.engine.begin() as connection:
                if connection.execute(select(answers.c.id).where(answers.c.id == answer_id)).first() is None:
                    raise AnswerNotFound()
                if insert is not None:
                    statement = insert(ratings).values(**values)
                    connection.execute(statement.on_conflict_do_update(
                        index_elements=[ratings.c.answer_id],
                        set_={k: statement.excluded[k] for k in ("rating", "comment", "rated_at")}))
                else:  # any other database: replace within the transaction
                    connection.execute(delete(ratings).where(ratings.c.answer_id == answer_id))
                    connection.execute(ratings.insert().values(**values))
        except IntegrityError as exc:  # the foreign key: no such answer
            raise AnswerNotFound() from exc
        return now

    @_database_errors
    def delete(self, conversation_id: str) -> None:
        """The conversation, its answers and their ratings, in one transaction (explicitly, so a
        database without enforced foreign keys loses nothing either)."""
        with self.engine.begin() as connection:
            self._require(connection, conversation_id)
            owned = select(answers.c.id).where(answers.c.conversation_id == conversation_id)
            connection.execute(delete(ratings).where(ratings.c.answer_id.in_(owned)))
            connection.execute(delete(answers).where(answers.c.conversation_id == conversation_id))
            connection.execute(delete(conversations).where(conversations.c.id == conversation_id))

    # --- reading -----------------------------------------------------------------------------

    @_database_errors
    def conversations(self, limit: int = 50) -> list[dict]:
        """Newest first: id, title, created, updated and the number of turns."""
        turns = func.count(answers.c.id).label("turns")
        query = (select(conversations, turns)
                 .join(answers, answers.c.conversation_id == conversations.c.id, isouter=True)
                 .group_by(conversations.c.id)
                 .order_by(conversations.c.updated_at.desc(), conversations.c.id)
                 .limit(max(1, min(limit, CONVERSATIONS_LIST_MAX))))
        with self.engine.connect() as connection:
            return [_head(row) | {"turns": row.turns} for row in connection.execute(query)]

    @_database_errors
    def conversation(self, conversation_id: str) -> tuple[dict, list[RecordedTurn]]:
        with self.engine.connect() as connection:
            head = self._require(connection, conversation_id)
            turns = self._turns(connection, answers.c.conversation_id == conversation_id)
        return _head(head) | {"turns": len(turns)}, turns

    @_database_errors
    def rated(self, rating: str | None = None) -> list[RecordedTurn]:
        """Every rated answer, oldest rating first; only one kind with `rating`."""
        condition = ratings.c.rating.is_not(None)
        if rating is not None:
            condition = ratings.c.rating == rating
        with self.engine.connect() as connection:
            return self._turns(connection, condition, rated_only=True)

    def _turns(self, connection, condition, rated_only: bool = False) -> list[RecordedTurn]:
        order = (ratings.c.rated_at, answers.c.id) if rated_only else (answers.c.created_at, answers.c.id)
        query = (select(answers, ratings.c.rating, ratings.c.comment, ratings.c.rated_at)
                 .join(ratings, ratings.c.answer_id == answers.c.id, isouter=not rated_only)
                 .where(condition).order_by(*order))
        return [RecordedTurn(
            answer_id=row.id, conversation_id=row.conversation_id, question=row.question,
            answer=row.answer, refused=row.refused, mode=row.mode, asked_at=_utc(row.asked_at),
            created_at=_utc(row.created_at), citations=list(row.citations or []), rating=row.rating,
            comment=row.comment, rated_at=_utc(row.rated_at)) for row in connection.execute(query)]

    @staticmethod
    def _require(connection, conversation_id: str):
        head = connection.execute(select(conversations).where(
            conversations.c.id == conversation_id)).first()
        if head is None:
            raise ConversationNotFound()
        return head
