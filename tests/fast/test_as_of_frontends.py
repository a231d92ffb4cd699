"""`as_of`, the moment a question is asked, in every front end: the HTTP API (plain and streamed),
the OpenAI-compatible route (as OpenAI's SDK sends it, in `extra_body`), the CLI and the web chat.
Each passes it to the service unchanged, and a value that is not a time is a 4xx (or exit 1, or a
message in the chat) with the service's message, before any stream starts."""

from __future__ import annotations

import openai
import pytest

from rag import cli
from tests.conftest import SEED_QUESTION, write_article
from tests.fast.conftest import http_client
from tests.helpers.html_checks import assert_inert
from tests.helpers.sse import sse_events

# The seed article was published on 2025-11-21.
BEFORE_SEED, AFTER_SEED = "2025-11-20", "2025-11-22T08:00+01:00"
BAD = ["yesterday", "2025-13-01", "10:00", "2025-11-20 and then some"]
ANSWER_ROUTES = ["/api/answer", "/api/answer?stream=true", "/api/answer/stream"]


@pytest.fixture
def asked(service, monkeypatch) -> list:
    """Every `as_of` the service was asked with; the service still answers."""
    seen, real = [], service.stream

    def spy(question, history=None, top_k=None, filters=None, as_of=None):
        seen.append(as_of)
        return real(question, history, top_k, filters, as_of)
    monkeypatch.setattr(service, "stream", spy)
    return seen


def openai_client(client) -> openai.OpenAI:
    # The TestClient is an httpx.Client: the SDK talks to the app in process through it.
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client,
                         max_retries=0)


def chat(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


# --- HTTP -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ANSWER_ROUTES)
def test_the_answer_routes_pass_as_of_to_the_service(client, asked, path):
    reply = client.post(path, json={"question": SEED_QUESTION, "as_of": AFTER_SEED})
    assert reply.status_code == 200, reply.text
    if "stream" in path:
        assert sse_events(reply.text)[-1][0] == "end"
    assert asked == [AFTER_SEED]
    client.post(path, json={"question": SEED_QUESTION})
    assert asked[-1] is None  # left out: now


def test_the_openai_route_takes_as_of_from_extra_body(client, asked):
    sdk = openai_client(client)
    reply = sdk.chat.completions.create(model="newsrag", messages=chat(SEED_QUESTION),
                                        extra_body={"as_of": AFTER_SEED})
    assert reply.choices[0].message.content and asked == [AFTER_SEED]
    stream = sdk.chat.completions.create(model="newsrag", messages=chat(SEED_QUESTION), stream=True,
                                         extra_body={"as_of": BEFORE_SEED})
    assert [c.choices[0].finish_reason for c in stream][-1] == "stop"
    assert asked == [AFTER_SEED, BEFORE_SEED]


@pytest.mark.parametrize("path", ANSWER_ROUTES)
@pytest.mark.parametrize("value", BAD)
def test_a_bad_as_of_is_a_400_with_a_message_before_any_stream(client, path, value):
    reply = client.post(path, json={"question": SEED_QUESTION, "as_of": value})
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert "as_of" in reply.json()["error"] and value in reply.json()["error"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("value", BAD)
def test_a_bad_as_of_through_the_openai_route_is_a_400(client, stream, value):
    reply = client.post("/v1/chat/completions",
                        json={"messages": chat(SEED_QUESTION), "stream": stream, "as_of": value})
    assert reply.status_code == 400, reply.text
    assert "as_of" in reply.json()["error"]
    with pytest.raises(openai.BadRequestError, match="as_of"):
        openai_client(client).chat.completions.create(model="newsrag", messages=chat(SEED_QUESTION),
                                                      stream=stream, extra_body={"as_of": value})


@pytest.mark.parametrize("path", [*ANSWER_ROUTES, "/v1/chat/completions"])
@pytest.mark.parametrize("value", [
    "2025-11-20" * 10, 20251120,
    # An aware time whose UTC value falls outside datetime's years.
    "0001-01-01T00:00+01:00", "9999-12-31T23:59-05:00",
])
def test_an_as_of_that_is_no_time_at_all_is_a_4xx(seed_index, path, value):
    client = http_client(seed_index.service(), raise_server_exceptions=False)
    body = {"question": SEED_QUESTION, "messages": chat(SEED_QUESTION), "as_of": value}
    if path.startswith("/api"):
        del body["messages"]
    else:
        del body["question"]
    reply = client.post(path, json=body)
    assert 400 <= reply.status_code < 500 and "as_of" in reply.json()["error"], reply.text


def test_the_api_docs_describe_as_of(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("AnswerRequest", "ChatCompletionRequest"):
        described = schemas[name]["properties"]["as_of"]["description"]
        assert "YYYY-MM-DD" in described and "published later" in described


def test_articles_published_after_as_of_are_left_out(corpus):
    """Over a corpus where the same story moved on: asked before the update, the answer rests
    on the older article only."""
    seeds = corpus.settings.seeds_dir
    write_article(seeds, "tram-1.txt", "Tram line approved",
                  "The city council of Aldbridge approved the new tram line. The tram line will cost "
                  "420 million euros.", date="2025-03-01 09:00")
    write_article(seeds, "tram-2.txt", "Tram line costs rise",
                  "The Aldbridge tram line will now cost 510 million euros, the council said. Steel "
                  "prices drove the tram line cost up.", date="2025-09-01 09:00")
    corpus.rebuild()
    client = http_client(corpus)
    question = "How much will the Aldbridge tram line cost?"
    early = client.post("/api/answer", json={"question": question, "as_of": "2025-06-01"}).json()
    assert not early["refused"] and "420 million" in early["answer"] and "510" not in early["answer"]
    assert {c["published"][:10] for c in early["citations"]} == {"2025-03-01"}
    sdk_reply = openai_client(client).chat.completions.create(
        model="newsrag", messages=chat(question), extra_body={"as_of": "2025-06-01"})
    assert {c["published"][:10] for c in sdk_reply.model_extra["citations"]} == {"2025-03-01"}
    none_yet = client.post("/api/answer", json={"question": question, "as_of": "2025-01-01"}).json()
    assert none_yet["refused"] and none_yet["citations"] == [] and none_yet["nearby"] == []


# --- CLI --------------------------------------------------------------------------------------

@pytest.fixture
def cli_service(seed_index, monkeypatch):
    """`rag ask` over the seed index: the CLI builds its service from settings, so hand it ours."""
    service = seed_index.service()
    monkeypatch.setattr("rag.service.RagService", lambda settings: service)
    return service


@pytest.mark.parametrize("value", BAD)
def test_rag_ask_with_a_bad_as_of_exits_1_with_the_message(cli_service, capsys, value):
    assert cli.main(["ask", "--as-of", value, SEED_QUESTION]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag ask: as_of:") and value in err and "Traceback" not in err


def test_rag_ask_passes_as_of_to_the_service(cli_service, monkeypatch, capsys):
    seen, real = [], cli_service.answer

    def spy(question, history=None, top_k=None, filters=None, as_of=None):
        seen.append(as_of)
        return real(question, history, top_k, filters, as_of)
    monkeypatch.setattr(cli_service, "answer", spy)
    assert cli.main(["ask", "--json", "--as-of", BEFORE_SEED, SEED_QUESTION]) == 0
    assert seen == [BEFORE_SEED]
    assert cli.main(["ask", "--json", SEED_QUESTION]) == 0
    assert seen[-1] is None


# --- web chat ---------------------------------------------------------------------------------

def test_the_chat_passes_as_of_and_shows_a_bad_one_as_a_message(service, asked):
    from ui.handlers import ChatHandlers

    handlers = ChatHandlers(service, "127.0.0.1")
    list(handlers.respond(SEED_QUESTION, [], [], [], None, 5, "", "", AFTER_SEED))
    list(handlers.respond(SEED_QUESTION, [], [], [], None, 5, "", ""))  # an older caller: no box
    list(handlers.respond(SEED_QUESTION, [], [], [], None, 5, "", "", ""))  # an empty box
    assert asked == [AFTER_SEED, None, None]
    hostile = '<img src=x onerror="alert(1)">[x](javascript:alert(2))'
    last = list(handlers.respond(SEED_QUESTION, [], [], [], None, 5, "", "", hostile))[-1]
    shown = assert_inert(last[1][-1]["content"], markdown=True)
    assert "as_of" in shown and "onerror" in shown  # the message, as text
    assert last[2] == []  # a failed question adds no turn to the conversation


def test_the_chat_api_for_programs_takes_as_of(service, asked):
    import gradio as gr

    from ui.handlers import ChatHandlers

    handlers = ChatHandlers(service, "127.0.0.1")
    assert handlers.ask(SEED_QUESTION, AFTER_SEED)["citations"]
    assert asked == [AFTER_SEED]
    with pytest.raises(gr.Error, match="as_of"):
        handlers.ask(SEED_QUESTION, "yesterday")
