"""The web chat, in a real headless Chromium and through gradio_client, against the real server."""

import shutil

import httpx
import pytest
from gradio_client import Client

from tests.conftest import ARTIFACTS_DIR, OFF_TOPIC_QUESTION, SEED_QUESTION, SEEDS, make_settings
from tests.helpers.browser import ask, chromium
from tests.server_process import running_server

TRAM_ARTICLE = """Aldbridge approves tram line

Transport 2025-11-19 08:30

The city council of Aldbridge approved the new tram line on Tuesday after a four-hour debate, with 31 votes in favour and 12 against.

Construction will begin in March and is expected to cost 420 million euros, according to the transport department.
"""


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    seeds = tmp / "seeds"
    shutil.copytree(SEEDS, seeds)
    with running_server(make_settings(tmp, seeds_dir=seeds), build=True) as base:
        yield base, tmp


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_gradio_client_gets_a_cited_answer(ui_server):
    base, _ = ui_server
    client = Client(f"{base}/", verbose=False)
    answer = client.predict(SEED_QUESTION, api_name="/ask")
    assert not answer["refused"] and "400,000" in answer["answer"]
    assert answer["citations"][0]["title"].startswith("Xiaomi raises 2025")


def test_chat_in_a_real_browser(ui_server, browser):
    base, tmp = ui_server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{base}/")

    # Example questions come from the indexed article. Without RAG_API_KEY there is no login.
    page.wait_for_selector("button.example", timeout=60_000)
    assert page.locator("input[type=password]").count() == 0
    examples = page.locator("button.example").all_inner_texts()
    assert any("Xiaomi" in e for e in examples)
    assert "1</strong> articles" in page.inner_html("#index-info") or "1 articles" in page.inner_text("#index-info")

    ask(page, SEED_QUESTION)
    answer = page.locator("#chat .answer").last
    assert "400,000" in answer.inner_text()
    marker = answer.locator("a.cite").first
    assert marker.inner_text() == "[1]" and marker.get_attribute("href") == "#src-1"
    # the cited article's date, beside its marker, so that its age shows at a glance
    assert answer.locator("a.cite + .cite-date").first.inner_text() == "21 Nov 2025"
    card = page.locator("#sources #src-1")
    assert card.is_visible()
    assert "Xiaomi raises 2025" in card.inner_text()
    highlight = card.locator("mark").first.inner_text()
    assert highlight and highlight in answer.inner_text()
    page.screenshot(path=str(ARTIFACTS_DIR() / "ui-desktop.png"), full_page=True)

    # A follow-up keeps the conversation.
    ask(page, "What about its profit?")
    assert "profit" in page.locator("#chat .answer").last.inner_text().lower()

    # A refusal looks different and shows the nearest articles instead of sources.
    ask(page, OFF_TOPIC_QUESTION)
    assert page.locator("#chat .refusal").last.is_visible()
    assert "Nearest articles found" in page.inner_text("#sources")

    # Phone width: everything stacks, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS_DIR() / "ui-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Add an article from the page, rebuild, and ask about it.
    article = tmp / "aldbridge-tram.txt"
    article.write_text(TRAM_ARTICLE)
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_timeout(1500)
    page.click("#add")
    page.wait_for_function("document.querySelector('#build-log').innerText.includes('✅')", timeout=180_000)
    log = page.inner_text("#build-log")
    assert "Added aldbridge-tram.txt" in log and "1 added" in log and "1 unchanged" in log
    assert (tmp / "seeds" / "aldbridge-tram.txt").exists()
    ask(page, "What will the Aldbridge tram line cost?")
    assert "420 million euros" in page.locator("#chat .answer").last.inner_text()
    page.screenshot(path=str(ARTIFACTS_DIR() / "ui-after-upload.png"), full_page=True)

    # The same name again is refused without 'replace'.
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_timeout(1500)
    page.click("#add")
    page.wait_for_function("document.querySelector('#build-log').innerText.includes('already exists')",
                           timeout=30_000)

    page.click("#new-conversation")
    page.wait_for_function("document.querySelectorAll('#chat .answer').length === 0", timeout=10_000)

    # Nothing was fetched from outside: no fonts, scripts or analytics.
    assert hosts == {base.split("/")[2]}, hosts
    page.close()


HOSTILE = "<img src=x onerror=window.pwned=1> Who is Xiaomi's founder and CEO?"


def _answers(page) -> int:
    return page.locator("#chat .answer, #chat .refusal").count()


def _stored(base: str) -> list[dict]:
    return [httpx.get(f"{base}/api/conversations/{c['id']}", timeout=30).json()
            for c in httpx.get(f"{base}/api/conversations", timeout=30).json()]


def _choose(page, label_start: str) -> None:
    page.click("#conversations input")
    page.wait_for_timeout(500)  # the list opens with a transition
    page.locator("#conversations li[role=option]", has_text=label_start).first.click()


def test_conversations_and_ratings_in_a_real_browser(ui_server, browser):
    base, _ = ui_server
    for conversation in _stored(base):  # the other tests' conversations
        httpx.delete(f"{base}/api/conversations/{conversation['id']}", timeout=30)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/")
    page.wait_for_selector("button.example", timeout=60_000)
    ask(page, SEED_QUESTION)
    ask(page, "What about its profit?")

    # Thumbs up on the first answer, thumbs down with a comment on the second.
    page.locator("#chat button[aria-label=Like]").nth(0).click()
    page.wait_for_function("document.querySelector('#feedback-note').innerText.includes('👍')", timeout=10_000)
    assert not page.locator("#feedback-box").is_visible()
    page.locator("#chat button[aria-label=Dislike]").nth(1).click()
    page.wait_for_selector("#feedback-comment textarea", state="visible", timeout=10_000)
    page.fill("#feedback-comment textarea", "<b>Not</b> the profit figure")
    page.click("#send-comment")
    page.wait_for_function("document.querySelector('#feedback-note').innerText.includes('comment')", timeout=10_000)
    (stored,) = _stored(base)
    assert [(t["rating"], t["comment"]) for t in stored["turns"]] == [("up", None), ("down", "<b>Not</b> the profit figure")]

    # A reload reopens the conversation that was open.
    page.reload()
    page.wait_for_function("document.querySelectorAll('#chat .answer, #chat .refusal').length === 2", timeout=30_000)
    assert "400,000" in page.locator("#chat .answer").first.inner_text()

    # A new conversation, whose title (the first question) is hostile markup.
    page.click("#new-conversation")
    page.wait_for_function("document.querySelectorAll('#chat .answer, #chat .refusal').length === 0", timeout=10_000)
    ask(page, HOSTILE)
    assert len(_stored(base)) == 2
    page.click("#conversations input")
    page.wait_for_timeout(500)
    options = page.locator("#conversations li[role=option]").all_inner_texts()
    assert any(HOSTILE in option for option in options), options  # shown as text
    assert page.evaluate("window.pwned") is None
    page.click("#question textarea")  # closes the list
    page.wait_for_timeout(500)

    # Open the first conversation again and continue it.
    _choose(page, SEED_QUESTION)
    page.wait_for_function("document.querySelectorAll('#chat .answer, #chat .refusal').length === 2", timeout=30_000)
    ask(page, "Who is Xiaomi's CEO?")
    first = next(c for c in _stored(base) if c["title"] == SEED_QUESTION)
    assert len(first["turns"]) == 3
    page.screenshot(path=str(ARTIFACTS_DIR() / "ui-conversations.png"), full_page=True)

    # Delete it: gone from the page, the list and the API; the other conversation stays.
    page.click("#delete-conversation")
    page.wait_for_function("document.querySelectorAll('#chat .answer, #chat .refusal').length === 0", timeout=10_000)
    assert [c["title"] for c in _stored(base)] == [HOSTILE]
    assert httpx.get(f"{base}/api/conversations/{first['id']}", timeout=30).status_code == 404
    page.click("#conversations input")
    assert not any(SEED_QUESTION in o for o in page.locator("#conversations li[role=option]").all_inner_texts())
    context.close()
