"""The engine for RAG_DATABASE_URL (SQLite beside the index when unset) and the migrations that
bring any database up to the current schema, run once per process before the first use."""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_FILE = "conversations.sqlite3"
# Another worker may hold the write lock for a moment; wait rather than fail.
BUSY_TIMEOUT_S = 30
# Any fixed number: the key of PostgreSQL's advisory lock that serialises migrations.
PG_MIGRATION_LOCK = 7_202_612_071


def database_url(configured: str | None, index_dir: Path) -> str:
    if configured:
        return configured
    return f"sqlite:///{(Path(index_dir) / SQLITE_FILE).resolve()}"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a server restarted under us costs a reconnect, not a failed request.
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never wait for the writer, and two processes can share the file;
        # NORMAL sync is durable across a process crash, which is what a restart needs.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Workers starting together take turns: an advisory lock on
    PostgreSQL, a file lock beside a SQLite file; each then finds the work done or does it."""
    with _migration_lock(engine), engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.connect() as connection:
            _pg_lock(connection, "pg_advisory_lock")
            try:
                yield
            finally:
                _pg_lock(connection, "pg_advisory_unlock")
        return
    database = engine.url.database
    if backend == "sqlite" and database and database != ":memory:":
        with open(f"{database}.migrate.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield


def _pg_lock(connection: Connection, function: str) -> None:
    connection.execute(text(f"SELECT {function}(:key)"), {"key": PG_MIGRATION_LOCK})
    connection.commit()
