"""The web chat, in a real headless Chromium and through gradio_client, against the real server."""

import shutil

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

    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chat .answer').length === 0", timeout=10_000)

    # Nothing was fetched from outside: no fonts, scripts or analytics.
    assert hosts == {base.split("/")[2]}, hosts
    page.close()
