"""What an article, a file name or a caller can make the product show or do: URLs that are not
http(s) never leave the service, everything the web chat shows from the index is escaped (its
Markdown included), and with RAG_API_KEY set the web chat and its Gradio API need the key.
The slow twins, over a real index and server: tests/test_script_links.py, tests/test_web_auth.py."""

from __future__ import annotations

import json

import pytest

from rag.access import may_change_index
from rag.models import Answer, Citation, NearbyArticle
from tests.conftest import make_settings
from tests.fast.conftest import http_client
from tests.helpers.html_checks import assert_inert

HOSTILE_URLS = [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
    "\x01javascript:alert(1)", "java\tscript:alert(1)", "java\nscript:alert(1)",
    "\u00a0https://example.com/x", "https://example.com/x\x00", "https://example.com/ x",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd",
    "http:evil.example.com", "https://", "//evil.example.com/x", "http://[::1", "", "   ",
]
SAFE_URLS = ["https://example.com/news/1?a=b&c=d#top", "http://news.example.org/x", "HTTPS://Example.com"]
# What an attacker would put in a title, a text or a file name.
PAYLOADS = ['<img src=x onerror="alert(1)">', "<script>alert(2)</script>",
            "[click](javascript:alert(3))", "![i](javascript:alert(4))", "$$\\href{javascript:alert(5)}{x}$$"]


def citation(**overrides) -> Citation:
    values = {"n": 1, "article_id": "a", "title": "t", "source": "s.json", "quote": "q", "score": 0.5}
    return Citation(**{**values, **overrides})


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_citation_drops_a_url_that_is_not_http_with_a_host(url):
    assert citation(url=url).url is None
    dumped = Answer(answer="a [1]", refused=False, mode="extractive", query="q",
                    citations=[{**citation().model_dump(), "url": url}]).model_dump()
    assert dumped["citations"][0]["url"] is None


@pytest.mark.parametrize("url", SAFE_URLS)
def test_a_citation_keeps_an_http_url(url):
    assert citation(url=url).url == url


def test_with_a_key_only_a_caller_whose_key_was_checked_may_change_the_index(tmp_path):
    keyed = make_settings(tmp_path, api_key="k")
    # Loopback is no exception: behind a reverse proxy on the same machine everyone is local.
    assert not may_change_index(keyed, "127.0.0.1", key_checked=False)
    assert not may_change_index(keyed, "0.0.0.0", key_checked=False)
    assert may_change_index(keyed, "0.0.0.0", key_checked=True)
    open_server = make_settings(tmp_path)
    assert may_change_index(open_server, "127.0.0.1", key_checked=False)
    assert not may_change_index(open_server, "0.0.0.0", key_checked=False)


def hostile_answer(url: str) -> Answer:
    text = " ".join(PAYLOADS)
    # model_construct skips the URL check: the page must not rely on it alone.
    card = Citation.model_construct(
        n=1, article_id="x", title=text, published=f"2025-01-01{PAYLOADS[0]}", source=PAYLOADS[2],
        url=url, quote=f"Before. {text} After.", highlight=text, score=0.9)
    return Answer(answer=f"{text} [1]", refused=False, mode="extractive", query=text,
                  citations=[card])


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html,<b>x</b>",
                                 " javascript:alert(1)"])
def test_rendered_answers_and_sources_are_inert(url):
    from ui import render

    answer = hostile_answer(url)
    assert answer.citations[0].url == url
    shown = assert_inert(render.answer_html(answer), markdown=True)
    assert "[click](javascript:alert(3))" in shown  # shown as text, not dropped
    shown = assert_inert(render.linkify(answer.answer), markdown=True)
    assert "<script>alert(2)</script>" in shown
    shown = assert_inert(render.sources_html(answer))
    assert PAYLOADS[0] in shown and PAYLOADS[2] in shown
    fallback = answer.model_copy(update={"mode": "extractive-fallback",
                                         "fallback_reason": PAYLOADS[0] + PAYLOADS[2]})
    assert_inert(render.answer_html(fallback), markdown=True)
    refused = Answer(answer=PAYLOADS[2] + PAYLOADS[1], refused=True, mode="refusal", query="q",
                     nearby=[NearbyArticle(article_id="x", title=PAYLOADS[0] + PAYLOADS[2],
                                           source=PAYLOADS[1], published=PAYLOADS[3], score=0.1)])
    assert_inert(render.answer_html(refused), markdown=True)
    assert PAYLOADS[0] in assert_inert(render.sources_html(refused))


def test_rendered_index_state_and_rebuild_log_are_inert():
    from ui import render

    hostile = " ".join(PAYLOADS)
    assert_inert(render.index_html({"ready": True, "articles": 1, "chunks": 2, "built_at": 0,
                                    "last_build": hostile}), markdown=True)
    assert_inert(render.rebuild_html({"state": "running", "stage": hostile, "done": 1, "total": 2}),
                 markdown=True)
    assert_inert(render.rebuild_html({"state": "failed", "error": hostile}), markdown=True)
    summary = {"line": hostile, "skipped": [{"source": hostile, "reason": hostile}]}
    shown = assert_inert(render.rebuild_html({"state": "idle", "last_summary": summary}), markdown=True)
    assert "[click](javascript:alert(3))" in shown


def test_upload_notes_and_errors_in_the_chat_are_inert(corpus, tmp_path):
    from ui.handlers import ChatHandlers

    handlers = ChatHandlers(corpus, "127.0.0.1")
    # Gradio keeps each upload under its original name; these are rejected for their type.
    folder = tmp_path / "uploads"
    folder.mkdir()
    files = []
    for payload in (p for p in PAYLOADS if "/" not in p):
        (folder / f"{payload}.exe").write_text("x")
        files.append(str(folder / f"{payload}.exe"))
    note = list(handlers.upload(files, False))[-1][0]
    assert "Not added" in assert_inert(note, markdown=True)
    # A date filter that is not a date is echoed back in the error message.
    events = list(handlers.respond("anything?", [], [], [], None, 5, PAYLOADS[0] + PAYLOADS[2], ""))
    shown = "".join(json.dumps(message) for message in events[-1][1])
    for message in events[-1][1]:
        assert_inert(message["content"], markdown=True)
    assert "onerror" in shown  # the message is there, as text


def test_the_api_serves_no_script_url_from_an_index_that_holds_one(corpus, monkeypatch):
    records = [{"id": f"r{i}", "title": f"Harbour tunnel opens {p}", "url": url,
                "text": f"The Selmouth harbour tunnel opened on Monday after six years of work {p}. "
                        "Tolls will be three euros per car, the port authority said."}
               for i, (p, url) in enumerate(zip(PAYLOADS, HOSTILE_URLS))]
    (corpus.settings.seeds_dir / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    # As an index built before ingest kept only http(s) URLs: they go in as written.
    monkeypatch.setattr("rag.ingest.loading.safe_url", lambda url: url)
    corpus.rebuild()
    monkeypatch.undo()
    client = http_client(corpus)
    question = {"question": "When did the Selmouth harbour tunnel open?"}
    body = client.post("/api/answer", json=question).json()
    chat = client.post("/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": question["question"]}]}).json()
    for reply in (body, chat):
        assert reply["citations"], reply
        assert all(c["url"] is None for c in reply["citations"]), reply["citations"]
