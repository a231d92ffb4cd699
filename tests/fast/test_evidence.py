"""A mistyped path never costs the archive, over the fakes: a missing or unreadable seeds folder
changes nothing, and a rebuild that would remove most of the index stops unless confirmed, in the
service, the HTTP API and the web chat's handler. The same with the real parts, the CLI and a
real server: tests/test_evidence.py."""

from __future__ import annotations

import os
import time

import pytest
from fastapi.testclient import TestClient

from rag.errors import RemovalNeedsConfirmation, SeedsUnavailable
from rag.web.app import create_app
from tests.conftest import write_article
from tests.fast.conftest import fast_service, fast_settings

BODY = ("The harbour authority opened a new ferry terminal on {day}, the {n}th of its kind on the "
        "coast. It cost {n} million euros and will serve {n}00 passengers a day, officials said.")


def write_articles(folder, count: int) -> None:
    for n in range(count):
        write_article(folder, f"ferry-{n}.txt", f"Ferry terminal {n} opens",
                      BODY.format(day="Monday", n=n + 10))


@pytest.fixture
def archive(tmp_path):
    """A service over six indexed articles."""
    settings = fast_settings(tmp_path)
    write_articles(settings.seeds_dir, 6)
    service = fast_service(settings)
    assert service.rebuild().articles == 6
    return service


def served(service) -> int:
    return len(service.articles())


def test_a_missing_seeds_folder_is_an_error_and_removes_nothing(archive, tmp_path):
    with pytest.raises(SeedsUnavailable, match="does not exist"):
        archive.rebuild(seeds=tmp_path / "no-such-folder")
    assert served(archive) == 6
    assert archive.rebuild_state.state == "failed"
    assert "does not exist" in archive.rebuild_state.error
    # the index on disk is the one it was: a fresh service over it serves the six articles
    fresh = fast_service(archive.settings, store=archive.store, embedder=archive.embedder)
    assert served(fresh) == 6


def test_a_seeds_path_that_is_neither_folder_nor_file_is_an_error(archive, tmp_path):
    fifo = tmp_path / "a-pipe"
    os.mkfifo(fifo)
    with pytest.raises(SeedsUnavailable, match="neither a folder nor an article file"):
        archive.rebuild(seeds=fifo)
    assert served(archive) == 6


@pytest.mark.parametrize("left", [0, 2])
def test_removing_all_or_most_articles_stops_unless_confirmed(archive, left):
    seeds = archive.settings.seeds_dir
    for path in sorted(seeds.iterdir())[left:]:
        path.unlink()
    with pytest.raises(RemovalNeedsConfirmation, match="confirm"):
        archive.rebuild()
    assert served(archive) == 6
    summary = archive.rebuild(confirm_removal=True)
    assert summary.removed == 6 - left and served(archive) == left


def test_removing_a_few_articles_needs_no_confirmation(archive):
    seeds = archive.settings.seeds_dir
    for path in sorted(seeds.iterdir())[:3]:  # half, not more than half
        path.unlink()
    assert archive.rebuild().removed == 3 and served(archive) == 3


def test_an_empty_folder_builds_an_empty_index_only_when_there_was_none(tmp_path):
    settings = fast_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    service = fast_service(settings)
    assert service.rebuild().articles == 0  # a new, empty index: nothing to lose


def _wait_idle(service, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while service.rebuild_state.state == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    return service.rebuild_state.public()


def test_the_api_says_why_a_rebuild_stopped_and_takes_a_confirmation(archive):
    for path in archive.settings.seeds_dir.iterdir():
        path.unlink()
    client = TestClient(create_app(archive, "127.0.0.1"))
    assert client.post("/api/index/rebuild").status_code == 202
    state = _wait_idle(archive)
    assert state["state"] == "failed" and "would remove every article" in state["error"]
    shown = client.get("/api/index").json()
    assert shown["articles"] == 6 and "confirm_removal" in shown["rebuild"]["error"]

    assert client.post("/api/index/rebuild", json={"confirm_removal": "maybe"}).status_code == 422
    assert client.post("/api/index/rebuild", json={"confirm": True}).status_code == 422
    assert client.post("/api/index/rebuild", json={"confirm_removal": True}).status_code == 202
    assert _wait_idle(archive)["state"] == "idle"
    assert client.get("/api/index").json()["articles"] == 0


def test_the_web_chat_rebuild_stops_and_goes_on_with_the_box_ticked(archive):
    from ui.handlers import ChatHandlers

    for path in archive.settings.seeds_dir.iterdir():
        path.unlink()
    handlers = ChatHandlers(archive, "127.0.0.1")
    log, _ = list(handlers.rebuild(False))[-1]
    assert "Rebuild failed" in log and "Allow removing most articles" in log
    assert served(archive) == 6
    log, _ = list(handlers.rebuild(True))[-1]
    assert "6 removed" in log and served(archive) == 0


def test_a_new_service_with_a_missing_seeds_folder_keeps_the_index(archive, tmp_path):
    moved = fast_settings(tmp_path, seeds_dir=tmp_path / "typo")
    service = fast_service(moved, store=archive.store, embedder=archive.embedder)
    service.refresh(force=True)
    with pytest.raises(SeedsUnavailable):
        service.rebuild()
    assert served(service) == 6 and "typo" in service.status()["rebuild"]["error"]
