"""With RAG_API_KEY set, the web chat is for callers with the key only: the page is a login,
every Gradio endpoint (what gradio_client calls) refuses a caller without it, and a caller who
signed in with it may ask, upload and rebuild. Against the real server, off loopback on
purpose: behind the key the page may change the index wherever the server listens."""

import shutil

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.conftest import ARTIFACTS_DIR, SEED_QUESTION, SEEDS, make_settings
from tests.helpers.browser import ask, chromium, log_in
from tests.server_process import running_server
from tests.test_ui import TRAM_ARTICLE

KEY = "ui-key-7Hq2Secret"
# Every public endpoint of the web chat, with arguments it would accept.
ENDPOINTS = {"/ask": [SEED_QUESTION], "/respond": [SEED_QUESTION, [], 5, "", ""],
             "/rebuild": [False], "/add_articles": [[], False], "/new_conversation": [],
             "/delete_conversation": []}


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keyed")
    seeds = tmp / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = make_settings(tmp, seeds_dir=seeds)
    with running_server(settings, host="0.0.0.0", build=True, RAG_API_KEY=KEY) as base:
        yield base, tmp


def test_without_the_key_every_gradio_endpoint_refuses(keyed_server):
    base, tmp = keyed_server
    for name, data in ENDPOINTS.items():
        for route in (f"/gradio_api/call{name}", f"/gradio_api/run{name}"):
            reply = httpx.post(f"{base}{route}", json={"data": data}, timeout=30)
            assert reply.status_code == 401, (route, reply.text)
    join = httpx.post(f"{base}/gradio_api/queue/join", timeout=30,
                      json={"data": [SEED_QUESTION], "fn_index": 0, "session_hash": "s1"})
    assert join.status_code == 401
    for path in ("/config", "/gradio_api/info", "/gradio_api/queue/data?session_hash=s1"):
        assert httpx.get(f"{base}{path}", timeout=30).status_code == 401, path
    upload = httpx.post(f"{base}/gradio_api/upload", timeout=30,
                        files={"files": ("tram.txt", TRAM_ARTICLE.encode())})
    assert upload.status_code == 401
    # The page itself is only a login: no components, no article.
    page = httpx.get(f"{base}/", timeout=30)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert "Xiaomi" not in page.text and 'elem_id":"chat' not in page.text.replace(" ", "")
    wrong = httpx.post(f"{base}/login", data={"username": "reader", "password": "wrong"}, timeout=30)
    assert wrong.status_code >= 400 and KEY not in wrong.text
    assert not (tmp / "seeds" / "tram.txt").exists()


def test_gradio_client_needs_the_key(keyed_server):
    base, tmp = keyed_server
    with pytest.raises(ValueError):
        Client(f"{base}/", verbose=False)
    with pytest.raises(ValueError):
        Client(f"{base}/", auth=("reader", "wrong-key"), verbose=False)
    client = Client(f"{base}/", auth=("reader", KEY), verbose=False)
    answer = client.predict(SEED_QUESTION, api_name="/ask")
    assert not answer["refused"] and "400,000" in answer["answer"]
    assert answer["citations"][0]["title"].startswith("Xiaomi raises 2025")
    chat = client.predict(*ENDPOINTS["/respond"], api_name="/respond")[1]
    assert "400,000" in str(chat[-1]["content"])

    # The same client without its login cookie is refused at every endpoint.
    cookies = dict(client.cookies)
    client.cookies.clear()
    for name, data in ENDPOINTS.items():
        with pytest.raises(httpx.HTTPStatusError, match="401"):
            client.predict(*data, api_name=name)
    client.cookies.update(cookies)

    article = tmp / "aldbridge-tram.txt"
    article.write_text(TRAM_ARTICLE)
    log = client.predict([handle_file(str(article))], False, api_name="/add_articles")[0]
    assert "Added aldbridge-tram.txt" in log and "✅" in log, log
    assert (tmp / "seeds" / "aldbridge-tram.txt").exists()
    assert "420 million euros" in client.predict("What will the Aldbridge tram line cost?",
                                                 api_name="/ask")["answer"]
    log = client.predict(api_name="/rebuild")[0]
    assert "✅" in log and "2 unchanged" in log, log


def test_the_page_asks_for_the_key_before_anything(keyed_server):
    base, _ = keyed_server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/")
        page.wait_for_selector("input[type=password]", timeout=60_000)
        assert page.locator("#chat").count() == 0 and page.locator("#question").count() == 0
        assert "RAG_API_KEY" in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS_DIR() / "ui-login.png"), full_page=True)

        log_in(page, base, "wrong-key")
        page.wait_for_timeout(2000)
        assert page.locator("#chat").count() == 0
        assert page.locator("input[type=password]").count() == 1

        log_in(page, base, KEY)
        page.wait_for_selector("button.example", timeout=60_000)
        ask(page, SEED_QUESTION)
        answer = page.locator("#chat .answer").last
        assert "400,000" in answer.inner_text()
        assert answer.locator("a.cite").first.get_attribute("href") == "#src-1"
        assert "Xiaomi raises 2025" in page.inner_text("#sources #src-1")
        page.close()
