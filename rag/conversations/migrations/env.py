"""Alembic's environment: the caller (rag.conversations.database.migrate) passes the connection,
so migrations run inside its transaction and lock, with no alembic.ini."""

from alembic import context

from rag.conversations.tables import metadata

connection = context.config.attributes["connection"]
# Batch mode: SQLite cannot alter a table in place, so later migrations copy it.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
