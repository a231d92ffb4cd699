"""The HTTP API in process (FastAPI's TestClient over `create_app`), over the fakes. Only the
public paths and status codes are used, so the tests taking `api` run against the real server
process too (tests/test_api.py has the ones that only a real server can run)."""

import time

import openai
import pytest

from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, write_article
from tests.fast.conftest import BOTH_TIERS, BlockingEmbedder, fast_service, fast_settings, http_client
from tests.helpers.sse import sse_events


def test_answer_shape(client):
    reply = client.post("/api/answer", json={"question": SEED_QUESTION})
    assert reply.status_code == 200
    body = reply.json()
    assert body["refused"] is False and body["mode"] == "extractive" and "400,000" in body["answer"]
    assert body["citations"] and body["query"] == SEED_QUESTION
    for citation in body["citations"]:
        assert {"n", "title", "published", "source", "url", "quote", "highlight", "score"} <= set(citation)
        assert f"[{citation['n']}]" in body["answer"]
    assert {"embed_ms", "retrieve_ms", "answer_ms", "total_ms"} <= set(body["timings"])
    refused = client.post("/api/answer", json={"question": OFF_TOPIC_QUESTION}).json()
    assert refused["refused"] is True and refused["citations"] == [] and refused["nearby"]


@pytest.mark.parametrize("path", ["/api/answer?stream=true", "/api/answer/stream"])
def test_answer_stream(api, path):
    reply = api.post(path, json={"question": SEED_QUESTION})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.text)
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-2:] == ["citations", "end"]
    end = events[-1][1]
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert streamed == end["answer"] and "400,000" in streamed
    assert events[-2][1]["citations"] == end["citations"] and end["citations"]


@pytest.mark.parametrize("body, status, word", [
    ({"question": ""}, 422, "question"),
    ({"question": "   "}, 422, "empty"),
    ({"question": "x" * 2001}, 422, "question"),
    ({"question": 5}, 422, "question"),
    ({}, 422, "question"),
    ({"question": "ok?", "colour": "red"}, 422, "colour"),
    ({"question": "ok?", "filters": {"colour": "red"}}, 422, "colour"),
    ({"question": "ok?", "top_k": "many"}, 422, "top_k"),
    ({"question": "ok?", "top_k": 0}, 422, "top_k"),
    ({"question": "ok?", "top_k": 21}, 422, "top_k"),
    ({"question": "ok?", "history": "earlier"}, 422, "history"),
    ({"question": "ok?", "history": [{"role": "robot", "content": "x"}]}, 422, "role"),
    ({"question": "ok?", "filters": {"published_after": "yesterday-ish"}}, 400, "published_after"),
])
def test_bad_input_gets_a_4xx_with_a_message(api, body, status, word):
    reply = api.post("/api/answer", json=body)
    assert reply.status_code == status, reply.text
    assert word in reply.json()["error"]


def test_malformed_bodies_get_a_4xx_with_a_message(api):
    malformed = api.post("/api/answer", content=b'{"question": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and "JSON" in malformed.json()["error"]
    empty = api.post("/v1/chat/completions", json={"model": "newsrag", "messages": []})
    assert empty.status_code == 422


def test_a_blank_question_through_the_chat_api_is_a_400(client):
    reply = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "  "}]})
    assert reply.status_code == 400 and "empty" in reply.json()["error"]
    reply = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert reply.status_code == 400 and "user" in reply.json()["error"]


def test_503_before_an_index_exists(corpus):
    client = http_client(corpus)
    reply = client.post("/api/answer", json={"question": SEED_QUESTION})
    assert reply.status_code == 503 and "not built" in reply.json()["error"]
    assert client.post("/api/answer?stream=true", json={"question": SEED_QUESTION}).status_code == 503
    assert client.get("/healthz").status_code == 503
    assert client.get("/api/index").json()["ready"] is False


def test_healthz(seed_index):
    service = seed_index.service()
    assert http_client(service, warm=False).get("/healthz").status_code == 503  # model not loaded
    health = http_client(service).get("/healthz")
    assert health.status_code == 200
    assert health.json()["articles"] == 1 and health.json()["chunks"] == seed_index.summary.chunks


OPEN_PATHS = {"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@pytest.fixture(params=BOTH_TIERS)
def keyed(request, tmp_path):
    """The API with RAG_API_KEY set: in process over the fakes, or the real server process."""
    if request.param == "fake":
        service = request.getfixturevalue("seed_index").service(
            api_key="s3cret-key", database_url=f"sqlite:///{tmp_path}/c.sqlite3")
        yield http_client(service)
        return
    import httpx

    from tests.server_process import running_server

    with running_server(request.getfixturevalue("seed_settings"), RAG_API_KEY="s3cret-key") as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        yield client


def test_api_key(keyed):
    """Every route of the app but health and the API's docs needs the key: the routes are read
    from the app's own OpenAPI schema, so a route added later is covered without touching this
    test."""
    client = keyed
    routes = [(method.upper(), path.replace("{conversation_id}", "0" * 32))
              for path, operations in client.get("/openapi.json").json()["paths"].items()
              if path not in OPEN_PATHS for method in operations]
    assert {"/api/feedback", "/api/conversations", "/api/conversations/" + "0" * 32} <= {p for _, p in routes}
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}):
            reply = client.request(method, path, json={"question": SEED_QUESTION}, headers=headers)
            assert reply.status_code == 401, (method, path, headers)
            assert reply.headers["www-authenticate"] == "Bearer" and "s3cret-key" not in reply.text
    good = {"Authorization": "Bearer s3cret-key"}
    answer = client.post("/api/answer", json={"question": SEED_QUESTION}, headers=good)
    assert answer.status_code == 200
    rated = client.post("/api/feedback", json={"answer_id": answer.json()["answer_id"], "rating": "up"},
                        headers=good)
    assert rated.status_code == 201
    assert answer.json()["conversation_id"] in {c["id"] for c in client.get("/api/conversations", headers=good).json()}
    assert client.get("/healthz").status_code == 200  # health checks need no key
    # OpenAI's own client, with the key and without.
    v1 = f"{str(client.base_url).rstrip('/')}/v1"
    assert openai.OpenAI(base_url=v1, api_key="s3cret-key", http_client=client).models.list().data[0].id == "newsrag"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=v1, api_key="nope", http_client=client, max_retries=0).models.list()


def test_chat_completions(client):
    request = {"model": "newsrag", "messages": [{"role": "user", "content": SEED_QUESTION}]}
    reply = client.post("/v1/chat/completions", json=request)
    assert reply.status_code == 200
    body = reply.json()
    content = body["choices"][0]["message"]["content"]
    assert "400,000" in content and "[1]" in content and body["refused"] is False
    assert body["citations"] and body["citations"][0]["n"] == 1 and body["citations"][0]["quote"]

    streamed = client.post("/v1/chat/completions", json={**request, "stream": True})
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    events = [data for _, data in sse_events(streamed.text)]
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == content
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["citations"] == body["citations"] and last["refused"] is False
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_chat_completions_refusal(client):
    body = client.post("/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": OFF_TOPIC_QUESTION}]}).json()
    assert body["refused"] is True and body["citations"] == []
    assert "don't cover" in body["choices"][0]["message"]["content"]


def test_rebuild_over_http(tmp_path):
    settings = fast_settings(tmp_path)
    write_article(settings.seeds_dir, "tram.txt", "Tram line approved",
                  "The city council approved the new tram line on Tuesday. It will cost 420 million euros.")
    embedder = BlockingEmbedder()
    client = http_client(fast_service(settings, embedder=embedder), warm=False)
    try:
        assert client.post("/api/index/rebuild").status_code == 202
        assert embedder.waiting.wait(10)
        assert client.get("/api/index").json()["rebuild"]["state"] == "running"
        again = client.post("/api/index/rebuild")
        assert again.status_code == 409 and "already running" in again.json()["error"]
    finally:
        embedder.go.set()
    for _ in range(1000):
        state = client.get("/api/index").json()
        if state["rebuild"]["finished_at"] is not None:
            break
        time.sleep(0.01)
    assert state["rebuild"]["state"] == "idle" and state["ready"] and state["articles"] == 1
    answer = client.post("/api/answer", json={"question": "How much will the tram line cost?"}).json()
    assert "420 million euros" in answer["answer"]


def test_an_unexpected_failure_is_a_json_500_without_internals(seed_index, monkeypatch):
    service = seed_index.service()
    client = http_client(service, raise_server_exceptions=False)
    monkeypatch.setattr(service, "status", lambda: (_ for _ in ()).throw(RuntimeError("secret detail")))
    reply = client.get("/api/index")
    assert reply.status_code == 500 and reply.json() == {"error": "internal error"}
