"""Headless Chromium (Debian's, driven by Playwright) and the steps the browser tests share."""

from __future__ import annotations

import contextlib
import shutil
from typing import Iterator

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is installed by `make test-deps`"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def ask(page: Page, question: str) -> None:
    """Type a question, send it, and wait until its whole answer (or refusal) is in the chat."""
    before = page.locator("#chat .answer, #chat .refusal").count()
    page.fill("#question textarea", question)
    page.click("#ask")
    wait_for_reply(page, before)


def wait_for_reply(page: Page, before: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('#chat .answer, #chat .refusal').length > {before} && "
        "!document.querySelector('#chat .pending') && document.querySelector('#question textarea').value === ''",
        timeout=90_000)
    page.wait_for_timeout(500)


def log_in(page: Page, base: str, password: str, user: str = "reader") -> None:
    """Sign in on Gradio's login page (shown instead of the chat while a key is set)."""
    page.goto(f"{base}/")
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input:not([type=password])").first.fill(user)
    page.fill("input[type=password]", password)
    page.get_by_role("button", name="Login").click()
