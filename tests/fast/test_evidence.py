"""A mistyped path never costs the archive, over the fakes: a missing or unreadable seeds folder
changes nothing, and a rebuild that would remove most of the index stops unless confirmed, in the
service, the HTTP API and the web chat's handler. The same with the real parts, the CLI and a
real server: tests/test_evidence.py."""

from __future__ import annotations

import json
import os
import time
import tracemalloc

import pytest
from fastapi.testclient import TestClient

from rag.errors import RemovalNeedsConfirmation, SeedsUnavailable
from rag.ingest.file_cache import scan_articles
from rag.ingest.loading import MAX_LISTED_SKIPS
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
    assert "leave 0" in shown["rebuild"]["error"]

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
    log, _, _ = list(handlers.rebuild(False))[-1]
    assert "Rebuild failed" in log and "Allow removing most articles" in log
    assert served(archive) == 6
    log, _, box = list(handlers.rebuild(True))[-1]
    assert "6 removed" in log and served(archive) == 0
    assert box is False  # cleared: the next rebuild is not confirmed by this one


def test_a_new_service_with_a_missing_seeds_folder_keeps_the_index(archive, tmp_path):
    moved = fast_settings(tmp_path, seeds_dir=tmp_path / "typo")
    service = fast_service(moved, store=archive.store, embedder=archive.embedder)
    service.refresh(force=True)
    with pytest.raises(SeedsUnavailable):
        service.rebuild()
    assert served(service) == 6 and "typo" in service.status()["rebuild"]["error"]


def write_feed(path, records: int, bad_lines: int = 0) -> None:
    """A JSON-lines feed repeating one story under new ids, and some malformed lines."""
    story = "The tram depot reopened after a fire. Repairs cost 12 million euros, the city said."
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            out.write(json.dumps({"id": f"feed-{i}", "title": "Tram depot reopens",
                                  "text": story}) + "\n")
        for _ in range(bad_lines):
            out.write("{not json\n")


def test_repeated_records_are_folded_into_one_article_and_counted(corpus):
    write_feed(corpus.settings.seeds_dir / "feed.jsonl", 500, bad_lines=1000)
    summary = corpus.rebuild()
    assert summary.articles == 1 and summary.added == 1
    folded = [s for s in summary.skipped if "folded" in s["reason"]]
    assert folded == [{"source": "feed.jsonl", "count": 499,
                       "reason": "same title and text as 'feed-0' (folded into it)"}]
    # a thousand bad lines: listed up to a bound, then counted under one line
    bad = [s for s in summary.skipped if "malformed" in s["reason"]]
    assert len(bad) <= MAX_LISTED_SKIPS + 1 and sum(s.get("count", 1) for s in bad) == 1000
    assert summary.line().startswith("1 added") and "1,499 skipped" in summary.line()


def _scan_peak(tmp_path, records: int) -> int:
    folder = tmp_path / f"seeds-{records}"
    folder.mkdir()
    write_feed(folder / "feed.jsonl", records)
    tracemalloc.start()
    try:
        scan = scan_articles(folder, tmp_path / f"index-{records}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(scan.articles) == 1
    return peak


def test_reading_a_collection_takes_memory_that_does_not_grow_with_its_records(tmp_path):
    small, large = _scan_peak(tmp_path, 2_000), _scan_peak(tmp_path, 8_000)
    # Held whole, four times the records took about four times the memory.
    assert large < 1.5 * small, (small, large)


def _write_stories(path, stories: int, repeats: int = 1) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(stories):
            record = {"title": f"Ferry route {n} opens",
                      "text": BODY.format(day="Friday", n=n + 10)}
            out.writelines(json.dumps(record) + "\n" for _ in range(repeats))


def test_renaming_a_collection_is_not_a_mass_removal(corpus):
    feed = corpus.settings.seeds_dir / "feed.jsonl"
    _write_stories(feed, 4)  # no ids: each record is named after the file and its line
    assert corpus.rebuild().articles == 4
    feed.rename(feed.with_name("ferries.jsonl"))
    summary = corpus.rebuild()  # four ids go, four come back: nothing to confirm
    assert (summary.removed, summary.added, summary.articles) == (4, 4, 4)


def test_many_repeated_stories_are_counted_past_the_listed_lines(corpus):
    _write_stories(corpus.settings.seeds_dir / "feed.jsonl", 300, repeats=2)
    summary = corpus.rebuild()
    folded = [s for s in summary.skipped if "folded" in s["reason"]]
    assert summary.articles == 300 and sum(s.get("count", 1) for s in folded) == 300
    assert len(folded) <= MAX_LISTED_SKIPS + 1
