"""Conversations and ratings through the HTTP API, in process over the fakes, on a real SQLite
file per test. The PostgreSQL and real-server twins are tests/test_postgres.py and
tests/test_conversations.py."""

import json

import pytest

from rag.cli import main as rag_cli
from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION
from tests.fast.conftest import http_client
from tests.helpers.sse import sse_events

FOLLOW_UP = "What about its profit?"


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'conversations.sqlite3'}"


@pytest.fixture
def client(seed_index, database):
    return http_client(seed_index.service(database_url=database))


def ask(client, question, **body):
    reply = client.post("/api/answer", json={"question": question, **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_conversation_is_kept_and_continued_from_the_stored_history(client):
    first = ask(client, SEED_QUESTION)
    assert len(first["answer_id"]) == 32 and len(first["conversation_id"]) == 32
    # No history in the request: the follow-up is understood from the stored conversation.
    follow = ask(client, FOLLOW_UP, conversation_id=first["conversation_id"])
    assert follow["conversation_id"] == first["conversation_id"]
    assert follow["answer_id"] != first["answer_id"]
    assert "Xiaomi" in follow["query"] and follow["query"] != FOLLOW_UP
    # Without the conversation the same words are a new conversation with no context.
    alone = ask(client, FOLLOW_UP)
    assert alone["conversation_id"] != first["conversation_id"] and alone["query"] == FOLLOW_UP

    listed = client.get("/api/conversations").json()
    assert [c["id"] for c in listed] == [alone["conversation_id"], first["conversation_id"]]
    assert listed[1]["title"] == SEED_QUESTION and listed[1]["turns"] == 2
    detail = client.get(f"/api/conversations/{first['conversation_id']}").json()
    assert [t["question"] for t in detail["turns"]] == [SEED_QUESTION, FOLLOW_UP]
    assert [t["answer_id"] for t in detail["turns"]] == [first["answer_id"], follow["answer_id"]]
    assert detail["turns"][0]["answer"] == first["answer"]
    assert detail["turns"][0]["citations"] == first["citations"]
    assert detail["turns"][0]["rating"] is None


def test_unknown_and_malformed_conversations(client):
    unknown = "0" * 32
    reply = client.post("/api/answer", json={"question": SEED_QUESTION, "conversation_id": unknown})
    assert reply.status_code == 404 and reply.json()["error"] == "no such conversation"
    reply = client.post("/api/answer?stream=true", json={"question": SEED_QUESTION, "conversation_id": unknown})
    assert reply.status_code == 404
    reply = client.post("/api/answer", json={"question": SEED_QUESTION, "conversation_id": "../../etc"})
    assert reply.status_code == 422 and "conversation_id" in reply.json()["error"]
    assert client.get(f"/api/conversations/{unknown}").status_code == 404
    assert client.delete(f"/api/conversations/{unknown}").status_code == 404
    assert client.get("/api/conversations?limit=0").status_code == 422


def test_feedback_is_recorded_and_a_second_rating_replaces_the_first(client):
    first = ask(client, SEED_QUESTION)
    body = {"answer_id": first["answer_id"], "rating": "down", "comment": "<b>wrong</b> year"}
    reply = client.post("/api/feedback", json=body)
    assert reply.status_code == 201
    assert reply.json()["rating"] == "down" and reply.json()["comment"] == "<b>wrong</b> year"
    turn = client.get(f"/api/conversations/{first['conversation_id']}").json()["turns"][0]
    assert (turn["rating"], turn["comment"]) == ("down", "<b>wrong</b> year")
    assert client.post("/api/feedback", json={"answer_id": first["answer_id"], "rating": "up"}).status_code == 201
    turn = client.get(f"/api/conversations/{first['conversation_id']}").json()["turns"][0]
    assert (turn["rating"], turn["comment"]) == ("up", None)


@pytest.mark.parametrize("body, status, word", [
    ({"answer_id": "0" * 32, "rating": "up"}, 404, "no such answer"),
    ({"answer_id": "0" * 32, "rating": "meh"}, 422, "rating"),
    ({"rating": "up"}, 422, "answer_id"),
    ({"answer_id": "x", "rating": "up"}, 422, "answer_id"),
    ({"answer_id": "0" * 32, "rating": "up", "colour": "red"}, 422, "colour"),
    ({"answer_id": "0" * 32, "rating": "down", "comment": "x" * 2001}, 422, "comment"),
])
def test_bad_feedback_gets_a_4xx_with_a_message(client, body, status, word):
    reply = client.post("/api/feedback", json=body)
    assert reply.status_code == status and word in reply.json()["error"]


def test_deleting_a_conversation_takes_its_answers_and_ratings(client):
    kept, gone = ask(client, SEED_QUESTION), ask(client, SEED_QUESTION)
    for answer in (kept, gone):
        assert client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "up"}).status_code == 201
    assert client.delete(f"/api/conversations/{gone['conversation_id']}").status_code == 204
    assert client.get(f"/api/conversations/{gone['conversation_id']}").status_code == 404
    assert client.post("/api/feedback", json={"answer_id": gone["answer_id"], "rating": "down"}).status_code == 404
    assert [c["id"] for c in client.get("/api/conversations").json()] == [kept["conversation_id"]]
    reply = client.post("/api/answer", json={"question": FOLLOW_UP, "conversation_id": gone["conversation_id"]})
    assert reply.status_code == 404


@pytest.mark.parametrize("path", ["/api/answer?stream=true", "/api/answer/stream"])
def test_a_streamed_answer_is_kept_before_its_end_event(client, path):
    events = sse_events(client.post(path, json={"question": SEED_QUESTION}).text)
    end = events[-1][1]
    assert events[-1][0] == "end" and end["answer_id"] and end["conversation_id"]
    turns = client.get(f"/api/conversations/{end['conversation_id']}").json()["turns"]
    assert [(t["answer_id"], t["answer"]) for t in turns] == [(end["answer_id"], end["answer"])]


def test_the_openai_route_returns_the_answer_id_as_the_completion_id(client):
    messages = [{"role": "user", "content": SEED_QUESTION}]
    reply = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert client.post("/api/feedback", json={"answer_id": reply["id"], "rating": "up"}).status_code == 201
    streamed = sse_events(client.post("/v1/chat/completions", json={"messages": messages, "stream": True}).text)
    ids = {data["id"] for _, data in streamed[:-1]}
    assert len(ids) == 1
    (answer_id,) = ids
    assert client.post("/api/feedback", json={"answer_id": answer_id, "rating": "down"}).status_code == 201
    conversation = streamed[-2][1]["conversation_id"]
    assert client.get(f"/api/conversations/{conversation}").json()["turns"][0]["answer_id"] == answer_id


def test_a_restart_keeps_conversations_and_ratings(seed_index, database):
    before = http_client(seed_index.service(database_url=database))
    first = ask(before, SEED_QUESTION)
    before.post("/api/feedback", json={"answer_id": first["answer_id"], "rating": "down", "comment": "old"})
    after = http_client(seed_index.service(database_url=database))  # a new process's service
    turn = after.get(f"/api/conversations/{first['conversation_id']}").json()["turns"][0]
    assert (turn["answer_id"], turn["rating"], turn["comment"]) == (first["answer_id"], "down", "old")
    assert ask(after, FOLLOW_UP, conversation_id=first["conversation_id"])["query"] != FOLLOW_UP


def test_a_database_that_cannot_be_opened_costs_the_ids_not_the_answer(seed_index, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    client = http_client(seed_index.service(database_url=f"sqlite:///{blocker}/c.sqlite3"))
    answer = ask(client, SEED_QUESTION)
    assert answer["citations"] and answer["answer_id"] is None and answer["conversation_id"] is None
    for method, path, body in [("GET", "/api/conversations", None),
                               ("POST", "/api/feedback", {"answer_id": "0" * 32, "rating": "up"})]:
        reply = client.request(method, path, json=body)
        assert reply.status_code == 503 and "conversations database" in reply.json()["error"]


def test_feedback_export_is_an_eval_set_and_the_report_counts_it(client, database, tmp_path, capsys,
                                                                 monkeypatch):
    good, wrong = ask(client, SEED_QUESTION), ask(client, "Who is Xiaomi's founder and CEO?")
    refused = ask(client, OFF_TOPIC_QUESTION)
    assert refused["refused"]
    for answer, rating, comment in [(good, "up", None), (wrong, "down", "names the wrong \x1b[31mperson"),
                                    (refused, "up", None)]:
        client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": rating, "comment": comment})
    monkeypatch.setenv("RAG_DATABASE_URL", database)
    out = tmp_path / "rated.jsonl"
    assert rag_cli(["feedback", "export", "--out", str(out)]) == 0
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {good["answer_id"], wrong["answer_id"], refused["answer_id"]}
    cited = sorted({c["article_id"] for c in good["citations"]})
    assert rows[good["answer_id"]]["answerable"] is True
    assert sorted(rows[good["answer_id"]]["relevant_doc_ids"]) == cited
    assert rows[good["answer_id"]]["question"] == SEED_QUESTION and rows[good["answer_id"]]["as_of"]
    assert rows[refused["answer_id"]]["answerable"] is False
    assert rows[wrong["answer_id"]]["relevant_doc_ids"] == [] and rows[wrong["answer_id"]]["cited_doc_ids"]
    assert rows[wrong["answer_id"]]["given_answer"] == wrong["answer"]
    assert rag_cli(["feedback", "export", "--out", str(out), "--rating", "down"]) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [wrong["answer_id"]]

    capsys.readouterr()
    assert rag_cli(["feedback", "report"]) == 0
    text = capsys.readouterr().out
    assert "3 rated answers, 1 rated down (33%)" in text
    assert "Who is Xiaomi's founder and CEO?" in text and "names the wrong  [31mperson" in text
    assert "\x1b" not in text  # a reader's text cannot drive the terminal
    assert rag_cli(["feedback", "report", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["share_down"] == 0.333 and sum(d["up"] + d["down"] for d in summary["days"]) == 3


def test_the_web_chat_reopens_a_stored_conversation_and_starts_afresh_when_it_is_gone(seed_index, database):
    from ui.conversations import ConversationHandlers

    service = seed_index.service(database_url=database)
    first = service.converse_answer(SEED_QUESTION)
    handlers = ConversationHandlers(service)
    chat, turns, answer_ids, opened, _, listing, note = handlers.open(first.conversation_id)
    assert opened == first.conversation_id and note == ""
    assert answer_ids == [None, first.answer_id] and turns[0]["content"] == SEED_QUESTION
    assert "400,000" in chat[1]["content"]
    [(label, value)] = handlers.choices()
    assert value == first.conversation_id and label.startswith(SEED_QUESTION) and label.endswith("UTC")
    service.conversations.delete(first.conversation_id)
    # A page reloaded after the conversation was deleted elsewhere: a fresh chat, no error.
    chat, turns, answer_ids, opened, _, _, note = handlers.open(first.conversation_id)
    assert (chat, turns, answer_ids, opened, note) == ([], [], [], None, "")
