"""Rebuilding over HTTP while questions keep being answered, and the product in front of a real
LLM server."""

import threading
import time

import httpx
import openai

from tests.conftest import SEED_QUESTION, make_settings, write_article
from tests.server_process import running_server
from tests.test_interrupt import synthetic_articles

TRAM = ("The city council of Aldbridge approved the new tram line on Tuesday after a four-hour "
        "debate. Construction will begin in March and cost 420 million euros, the transport "
        "department said.")


def test_rebuild_while_answering(tmp_path, seeds_copy):
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    with running_server(settings, build=True) as base:
        first = httpx.get(f"{base}/api/index").json()
        assert first["articles"] == 1 and first["rebuild"]["state"] == "idle"

        synthetic_articles(seeds_copy, count=30)
        write_article(seeds_copy, "tram.txt", "Aldbridge approves tram line", TRAM)
        started = httpx.post(f"{base}/api/index/rebuild", timeout=30)
        assert started.status_code == 202
        again = httpx.post(f"{base}/api/index/rebuild", timeout=30)
        assert again.status_code == 409 and "already running" in again.json()["error"]

        seen_states, answers, stop = set(), [], threading.Event()

        def keep_asking():
            while not stop.is_set():
                reply = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60)
                answers.append((reply.status_code, reply.json()))
        asker = threading.Thread(target=keep_asking)
        asker.start()
        deadline = time.time() + 300
        while time.time() < deadline:
            state = httpx.get(f"{base}/api/index", timeout=30).json()
            seen_states.add(state["rebuild"]["state"])
            if state["rebuild"]["state"] != "running":
                break
            time.sleep(0.3)
        stop.set()
        asker.join(60)

        assert "running" in seen_states and state["rebuild"]["state"] == "idle"
        summary = state["rebuild"]["last_summary"]
        assert summary["added"] == 31 and summary["unchanged"] == 1
        assert state["articles"] == 32
        # Every answer during the rebuild came whole from one index or the other.
        assert answers and all(code == 200 and "400,000" in body["answer"] for code, body in answers)
        tram = httpx.post(f"{base}/api/answer", json={"question": "What will the Aldbridge tram line cost?"},
                          timeout=60).json()
        assert not tram["refused"] and "420 million euros" in tram["answer"]


def test_openai_client_through_the_product_to_llama_cpp(seed_settings, llama_server):
    with running_server(seed_settings, OPENAI_BASE_URL=llama_server, RAG_LLM_MODEL="smollm2",
                        RAG_LLM_TIMEOUT_S="120") as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", timeout=300)
        completion = client.chat.completions.create(
            model="newsrag", messages=[{"role": "user", "content": SEED_QUESTION}])
        citations = completion.model_extra["citations"]
        text = completion.choices[0].message.content
        assert citations and all(f"[{c['n']}]" in text for c in citations)
        chunks = list(client.chat.completions.create(
            model="newsrag", stream=True, messages=[{"role": "user", "content": SEED_QUESTION}]))
        assert chunks[-1].choices[0].finish_reason == "stop"
        assert "".join(c.choices[0].delta.content or "" for c in chunks).strip()
        status = httpx.get(f"{base}/api/index").json()
        assert status["ready"]


def test_a_slow_llm_times_out_to_the_extractive_answer(seed_settings, llm):
    llm.delay_s = 30
    with running_server(seed_settings, OPENAI_BASE_URL=llm.base_url, RAG_LLM_MODEL="scripted",
                        RAG_LLM_TIMEOUT_S="2") as base:
        started = time.perf_counter()
        reply = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60).json()
        assert time.perf_counter() - started < 10
        assert reply["mode"] == "extractive-fallback" and "timed out" in reply["fallback_reason"]
        assert "400,000" in reply["answer"] and reply["citations"]
