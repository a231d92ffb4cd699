"""The database's tables. The migrations (rag/conversations/migrations/versions) create them; a
test compares the two, so a column added here without a migration fails."""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index,
                        MetaData, String, Table, Text)

ID_LENGTH = 32  # uuid4 hex
RATINGS = ("up", "down")

metadata = MetaData()

conversations = Table(
    "conversations", metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

answers = Table(
    "answers", metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("conversation_id", String(ID_LENGTH),
           ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("question", Text, nullable=False),
    # The moment the question was asked as (its `as_of`, else when it came in): the eval's `as_of`.
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("answer", Text, nullable=False),
    Column("refused", Boolean, nullable=False),
    Column("mode", String(40), nullable=False),
    Column("query", Text, nullable=False),
    Column("citations", JSON, nullable=False),
    Index("ix_answers_conversation", "conversation_id", "created_at"),
)

ratings = Table(
    "ratings", metadata,
    Column("answer_id", String(ID_LENGTH), ForeignKey("answers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("rating", String(4), CheckConstraint("rating IN ('up', 'down')", name="ck_ratings_rating"),
           nullable=False),
    Column("comment", Text, nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=False, index=True),
)
