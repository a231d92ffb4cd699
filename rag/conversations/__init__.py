"""Conversations and the readers' ratings of answers, kept in a SQL database (SQLite beside the
index by default, any SQLAlchemy URL through RAG_DATABASE_URL), with Alembic migrations."""
