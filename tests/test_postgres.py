"""The conversations database on a real PostgreSQL server: the migrations, the store, a server
that goes away and comes back, and two API workers taking ratings from eight clients at once."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from rag.conversations import database
from rag.conversations.store import ConversationStore
from rag.conversations.tables import metadata
from rag.errors import DatabaseUnavailable
from rag.models import Answer
from tests.conftest import SEED_QUESTION, make_settings, rag_env
from tests.helpers.postgres import PostgresServer
from tests.server_process import running_server
from tests.test_faults import index_cli

CLIENTS, RATINGS_EACH = 8, 12
QUESTIONS = [SEED_QUESTION, "Who is Xiaomi's founder and CEO?", "What did Lu Weibing say about memory chips?",
             "What about its profit?"]


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.remove()


def _answer(text_: str = "It plans 400,000 [1].") -> Answer:
    return Answer(answer=text_, refused=False, mode="extractive", query="q", citations=[])


def test_the_store_on_postgresql(postgres):
    store = ConversationStore(postgres.create_database(f"store_{uuid.uuid4().hex[:8]}"))
    assert database.current_revision(store.engine) == database.head_revision()
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    asked = datetime(2025, 11, 21, 9, 30, tzinfo=timezone.utc)
    conversation = store.record("a" * 32, None, "How many?", asked, _answer())
    store.record("b" * 32, conversation, "And the profit?", asked, _answer("700 million yuan [1]."))
    store.rate("a" * 32, "down", "wrong year")
    store.rate("a" * 32, "up", None)  # replaces, on PostgreSQL's ON CONFLICT
    head, turns = store.conversation(conversation)
    assert head["turns"] == 2 and [t.rating for t in turns] == ["up", None]
    assert turns[0].asked_at == asked
    assert store.history(conversation, 50)[-1].content == "700 million yuan [1]."
    store.delete(conversation)
    assert store.conversations() == [] and store.rated() == []


def test_a_server_that_goes_away_is_a_503_and_its_return_is_used(postgres):
    store = ConversationStore(postgres.create_database(f"away_{uuid.uuid4().hex[:8]}"))
    store.record("c" * 32, None, "How many?", datetime.now(timezone.utc), _answer())
    postgres.stop()
    try:
        with pytest.raises(DatabaseUnavailable):
            store.conversations()
    finally:
        postgres.start()
    assert [c["turns"] for c in store.conversations()] == [1]


def test_two_workers_take_eight_clients_ratings_at_once(postgres, tmp_path, seeds_copy, chroma_server):
    if chroma_server.proc is None:
        chroma_server.start()
    url = postgres.create_database(f"workers_{uuid.uuid4().hex[:8]}")
    shared = {"seeds_dir": seeds_copy, "chroma_host": "127.0.0.1", "chroma_port": chroma_server.port,
              "collection": f"pg{uuid.uuid4().hex[:10]}", "database_url": url}
    worker_a, worker_b = make_settings(tmp_path / "a", **shared), make_settings(tmp_path / "b", **shared)
    assert index_cli(rag_env(worker_a)).returncode == 0
    # Both start on an empty database at once: one migrates, the other waits for it.
    with running_server(worker_a) as a, running_server(worker_b) as b:
        def client_session(n: int) -> list[tuple[str, str, str]]:
            """One client's conversation, its turns alternating between the two workers (each
            continues from the history the other stored), and the ratings it will send."""
            conversation, sent = None, []
            with httpx.Client(timeout=120) as http:
                for turn in range(RATINGS_EACH):
                    body = {"question": QUESTIONS[turn % len(QUESTIONS)]}
                    if conversation:
                        body["conversation_id"] = conversation
                    reply = http.post(f"{(a, b)[turn % 2]}/api/answer", json=body)
                    assert reply.status_code == 200, reply.text
                    conversation = reply.json()["conversation_id"]
                    sent.append((reply.json()["answer_id"], ("up", "down")[(n + turn) % 2], f"client {n} turn {turn}"))
            return sent

        with ThreadPoolExecutor(CLIENTS) as pool:
            planned = [rating for session in pool.map(client_session, range(CLIENTS)) for rating in session]
        assert len({answer_id for answer_id, _, _ in planned}) == CLIENTS * RATINGS_EACH

        start = threading.Barrier(CLIENTS)

        def rate_all(n: int) -> list[int]:
            mine = planned[n * RATINGS_EACH:(n + 1) * RATINGS_EACH]
            with httpx.Client(timeout=60) as http:
                start.wait()
                return [http.post(f"{(a, b)[i % 2]}/api/feedback",
                                  json={"answer_id": answer_id, "rating": rating, "comment": comment}).status_code
                        for i, (answer_id, rating, comment) in enumerate(mine)]

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [status for result in pool.map(rate_all, range(CLIENTS)) for status in result]
        assert statuses == [201] * (CLIENTS * RATINGS_EACH)

        engine = create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT answer_id, rating, comment FROM ratings")).all()
            turns = connection.execute(text("SELECT count(*) FROM answers")).scalar_one()
        engine.dispose()
        assert sorted(map(tuple, rows)) == sorted(planned)  # 96 rows, none lost, none changed
        assert turns == CLIENTS * RATINGS_EACH
        listed = httpx.get(f"{b}/api/conversations", timeout=30).json()
        assert len(listed) == CLIENTS and {c["turns"] for c in listed} == {RATINGS_EACH}
