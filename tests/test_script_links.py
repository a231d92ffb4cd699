"""An index that holds hostile articles (script URLs, HTML and Markdown links in titles, texts
and file names), built for real as it was before ingest dropped such URLs, and served for real:
no `javascript:` or `data:` URL comes back from the API or the OpenAI-compatible API, the web
chat's HTML is inert, and in a real browser no payload runs (each one would set window.__xss)
and no link leads to a script."""

import json

import httpx
import openai
import pytest

from rag.index.build import rebuild
from rag.models import Answer
from tests.conftest import ARTIFACTS_DIR, make_settings
from tests.helpers.browser import ask, chromium, wait_for_reply
from tests.helpers.html_checks import assert_inert
from tests.server_process import running_server

QUESTION = "How much are the tolls for the Selmouth harbour tunnel?"
# A question each article answers first, so that each kind of URL is served once.
QUESTIONS = {"harbour": QUESTION, "ferry": "When will the Selmouth harbour ferry stop running?",
             "bridge": "Why did the old Selmouth harbour bridge close?",
             "plain": "How many cars a day went through the Selmouth harbour tunnel?"}
FEED = '<img src=x onerror="window.__xss=1">[feed](javascript:window.__xss=2).jsonl'
EMPTY = '<img src=x onerror="window.__xss=3">[empty](javascript:window.__xss=4).txt'
RECORDS = [
    {"id": "harbour", "url": "javascript:window.__xss=5", "published": "2025-10-06",
     "title": 'Selmouth harbour tunnel opens <img src=x onerror="window.__xss=6"> '
              "[click](javascript:window.__xss=7)",
     "text": "The Selmouth harbour tunnel opened to traffic on Monday after six years of construction "
             '<img src=x onerror="window.__xss=8"> [click](javascript:window.__xss=9), the port '
             "authority said. <script>window.__xss=10</script> Tolls for the tunnel will be three "
             "euros per car and nothing for bicycles ![x](javascript:window.__xss=11)."},
    {"id": "ferry", "url": "data:text/html,<script>window.__xss=12</script>", "published": "2025-10-07",
     "title": "<script>window.__xss=13</script>Selmouth harbour ferry to stop after the tunnel opens",
     "text": "The Selmouth harbour ferry will stop running once the tunnel opens, the operator said. "
             "Its last crossing is planned for the end of October <b onmouseover=window.__xss=14>.</b>"},
    {"id": "bridge", "url": " javascript:window.__xss=15", "published": "2025-10-08",
     "title": "Selmouth harbour bridge closes for repairs",
     "text": "The old Selmouth harbour bridge closed for repairs on Tuesday, a week after the tunnel "
             "opened, the council said."},
    {"id": "plain", "url": "https://news.example.com/selmouth-tunnel", "published": "2025-10-09",
     "title": "Selmouth harbour tunnel traffic",
     "text": "Traffic through the Selmouth harbour tunnel reached 20,000 cars a day in its first week."},
]
HTTP_URLS = {"plain": "https://news.example.com/selmouth-tunnel"}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    seeds = tmp / "seeds"
    seeds.mkdir()
    (seeds / FEED).write_text("\n".join(json.dumps(r) for r in RECORDS), encoding="utf-8")
    (seeds / EMPTY).write_text("")  # skipped, and its name shows in the rebuild summary
    settings = make_settings(tmp, seeds_dir=seeds)
    # As an index built before ingest kept only http(s) URLs: they go in as written, and the
    # server must serve it without them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("rag.ingest.loading.safe_url", lambda url: url)
        rebuild(settings)
    with running_server(settings) as base:
        yield base


def check_urls(citations: list[dict]) -> None:
    assert citations
    for c in citations:
        assert c["url"] == HTTP_URLS.get(c["article_id"]), c


def test_the_apis_serve_no_script_url(hostile_server):
    base = hostile_server
    for article_id, question in QUESTIONS.items():
        body = httpx.post(f"{base}/api/answer", json={"question": question}, timeout=60).json()
        assert not body["refused"] and body["citations"][0]["article_id"] == article_id, body
        check_urls(body["citations"])
    body = httpx.post(f"{base}/api/answer", json={"question": QUESTION}, timeout=60).json()
    with httpx.stream("POST", f"{base}/api/answer?stream=true", json={"question": QUESTION},
                      timeout=60) as reply:
        streamed = reply.read().decode()
    events = dict(block.split("\ndata: ", 1) for block in streamed.strip().split("\n\n"))
    check_urls(json.loads(events["event: citations"])["citations"])

    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")
    messages = [{"role": "user", "content": QUESTION}]
    completion = client.chat.completions.create(model="newsrag", messages=messages)
    check_urls(completion.model_extra["citations"])
    chunks = list(client.chat.completions.create(model="newsrag", messages=messages, stream=True))
    check_urls(chunks[-1].model_extra["citations"])

    # What the web chat would render from this answer is inert.
    from ui import render

    answer = Answer.model_validate(body)
    assert "[click](javascript:window.__xss=9)" in assert_inert(render.answer_html(answer), markdown=True)
    assert_inert(render.sources_html(answer))


def test_no_payload_runs_in_a_real_browser(hostile_server):
    base = hostile_server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/")
        page.wait_for_selector("button.example", timeout=60_000)
        ask(page, QUESTION)
        assert "three euros per car" in page.locator("#chat .answer").last.inner_text()
        assert "[click](javascript:window.__xss=7)" in page.inner_text("#sources")  # as text
        assert_nothing_ran(page)

        # An example question is made from a hostile title; clicking it sends the title.
        before = page.locator("#chat .answer, #chat .refusal").count()
        page.locator("button.example", has_text="window.__xss").first.click()
        wait_for_reply(page, before)
        assert "<script>window.__xss=13</script>" in page.locator("#chat").inner_text()

        page.click("#rebuild")
        page.wait_for_function("document.querySelector('#build-log').innerText.includes('✅')",
                               timeout=120_000)
        assert "[empty](javascript:window.__xss=4).txt" in page.inner_text("#build-log")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS_DIR() / "ui-hostile.png"), full_page=True)

        assert_nothing_ran(page)
        page.close()


def assert_nothing_ran(page) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator('a[href^="javascript:" i], a[href^="data:" i]').count() == 0
    protocols = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.protocol)")
    assert set(protocols) <= {"http:", "https:"}, protocols
    for area in ("#chat", "#sources", "#build-log", "#index-info"):
        assert page.locator(f"{area} img, {area} script, {area} b").count() == 0, area
