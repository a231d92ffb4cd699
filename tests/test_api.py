"""The HTTP service, started for real and spoken to over HTTP: plain requests, server-sent
events, and the official openai client. What holds in both tiers (streaming, bad input, the key)
is one test each in tests/fast/test_http.py, run in process and against the real server."""

import threading

import httpx
import openai
import pytest

from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, make_settings
from tests.server_process import running_server


@pytest.fixture(scope="module")
def server(seed_settings):
    with running_server(seed_settings) as base:
        yield base


def test_healthz_and_docs(server):
    health = httpx.get(f"{server}/healthz").json()
    assert health["status"] == "ok" and health["articles"] == 1 and health["chunks"] >= 3
    spec = httpx.get(f"{server}/openapi.json").json()
    assert "Answer a question with cited passages." in spec["paths"]["/api/answer"]["post"]["description"]
    assert httpx.get(f"{server}/docs").status_code == 200


def test_healthz_is_503_before_an_index_exists(tmp_path):
    with running_server(make_settings(tmp_path), ready=False) as base:
        reply = httpx.get(f"{base}/healthz")
        assert reply.status_code == 503 and "error" in reply.json()
        answer = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION})
        assert answer.status_code == 503 and "not built" in answer.json()["error"]


def test_answer(server):
    reply = httpx.post(f"{server}/api/answer", json={"question": SEED_QUESTION}, timeout=60)
    assert reply.status_code == 200
    body = reply.json()
    assert body["refused"] is False and "400,000" in body["answer"]
    assert body["citations"][0]["title"].startswith("Xiaomi raises 2025")
    assert {"embed_ms", "retrieve_ms", "answer_ms", "total_ms"} <= set(body["timings"])
    refused = httpx.post(f"{server}/api/answer", json={"question": OFF_TOPIC_QUESTION}, timeout=60).json()
    assert refused["refused"] is True and refused["citations"] == []


def test_follow_up_over_http(server):
    body = {"question": "What about its profit?",
            "history": [{"role": "user", "content": "How many cars will Xiaomi deliver this year?"},
                        {"role": "assistant", "content": "Over 400,000 [1]."}]}
    reply = httpx.post(f"{server}/api/answer", json=body, timeout=60).json()
    assert "Xiaomi" in reply["query"] and "profit" in reply["answer"].lower()


def test_openai_client_against_the_product(server):
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["newsrag"]
    completion = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": SEED_QUESTION}])
    content = completion.choices[0].message.content
    assert "400,000" in content and "[1]" in content
    citations = completion.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["quote"]

    stream = client.chat.completions.create(
        model="newsrag", stream=True, messages=[{"role": "user", "content": SEED_QUESTION}])
    pieces, last = [], None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(pieces) == content
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"] == citations


def test_32_concurrent_requests_all_complete(server):
    results, errors = [], []

    def ask(i):
        try:
            question = SEED_QUESTION if i % 2 else "Who is Xiaomi's founder and CEO?"
            reply = httpx.post(f"{server}/api/answer", json={"question": question}, timeout=120)
            results.append(reply.status_code)
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    # The event loop stays free while embeddings run in worker threads.
    assert httpx.get(f"{server}/healthz", timeout=10).status_code == 200
    for t in threads:
        t.join(180)
    assert errors == [] and results == [200] * 32


def test_rebuild_over_http_is_refused_off_loopback_without_a_key(seed_settings):
    with running_server(seed_settings, host="0.0.0.0") as base:
        reply = httpx.post(f"{base}/api/index/rebuild", timeout=30)
        assert reply.status_code == 403 and "RAG_API_KEY" in reply.json()["error"]
