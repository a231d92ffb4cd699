"""The conversations database's migrations: an older database is brought up to date without
losing a conversation, and the migrations create exactly the tables the code uses."""

from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from rag.conversations import database
from rag.conversations.store import ConversationStore
from rag.conversations.tables import metadata

ASKED = datetime(2025, 11, 21, 9, 30, tzinfo=timezone.utc)


def test_an_upgrade_keeps_the_conversations_of_the_first_version(tmp_path):
    url = database.database_url(None, tmp_path)
    engine = database.make_engine(url)
    database.migrate(engine, "0001")  # the first release: conversations, no ratings yet
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO conversations (id, title, created_at, updated_at) "
            "VALUES ('c' || hex(zeroblob(15)) || 'c', 'Old question', :t, :t)"), {"t": ASKED})
        conversation_id = connection.execute(text("SELECT id FROM conversations")).scalar_one()
        connection.execute(text(
            "INSERT INTO answers (id, conversation_id, question, asked_at, created_at, answer, refused, "
            "mode, query, citations) VALUES (:a, :c, 'Old question', :t, :t, 'Old answer [1].', 0, "
            "'extractive', 'Old question', '[]')"), {"a": "a" * 32, "c": conversation_id, "t": ASKED})
    assert database.current_revision(engine) == "0001"
    engine.dispose()

    store = ConversationStore(url)  # opening it migrates to the head
    assert database.current_revision(store.engine) == database.head_revision() == "0002"
    head, turns = store.conversation(conversation_id)
    assert head["title"] == "Old question" and head["updated"] == ASKED
    assert [(t.question, t.answer, t.asked_at) for t in turns] == [("Old question", "Old answer [1].", ASKED)]
    store.rate("a" * 32, "up", None)  # the new version's table works on the old rows
    assert [t.rating for t in store.rated()] == ["up"]


def test_the_migrations_create_exactly_the_tables_the_code_uses(tmp_path):
    engine = database.make_engine(database.database_url(None, tmp_path))
    database.migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "tables.py and the migrations differ: add a migration"


def test_migrating_twice_changes_nothing(tmp_path):
    store = ConversationStore(database.database_url(None, tmp_path))
    store.open()
    store.close()
    again = ConversationStore(store.url)
    again.open()
    assert database.current_revision(again.engine) == database.head_revision()
