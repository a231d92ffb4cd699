"""Incremental rebuilds through the service, over the fakes: what changed is re-embedded in place,
what did not stays, a failed rebuild leaves the previous index serving. The whole cycle runs on
the real parts too (MiniLM, Chroma embedded and as a server); tests/test_indexing.py has what
only a real store shows."""

import time

import pytest

from rag.errors import RebuildInProgress
from rag.index.rows_filter import RowFilter
from rag.index.snapshot_files import chain
from tests.conftest import SEEDS, write_article
from tests.fakes import FakeEmbedder, FakeStore
from tests.fast.conftest import BlockingEmbedder, fast_service, fast_settings
from tests.helpers.counting import CountingEmbedder

TRAM = ("The city council approved the new tram line on Tuesday after a four-hour debate. "
        "Construction will begin in March and cost 420 million euros, the transport department said.")
PARK = ("The riverside park reopened on Saturday after a flood-damage repair that took eight months. "
        "The gardens were replanted with 3,000 native shrubs, the parks office said.")
TRAM_QUESTION = "How much will the new tram line cost?"


def counts(summary):
    return summary.added, summary.updated, summary.removed, summary.unchanged


def served_articles(service) -> set[str]:
    return {a.id for a in service.articles()}


@pytest.fixture(params=["fake", pytest.param("embedded", marks=pytest.mark.real),
                        pytest.param("server", marks=pytest.mark.real)])
def rebuilding(request, tmp_path):
    """An empty seeds folder and a service over it: the fakes, or MiniLM with Chroma embedded
    and as a server (each test its own collection prefix on the shared server)."""
    if request.param == "fake":
        return request.getfixturevalue("corpus")
    import uuid

    from rag.index.embedding import get_embedder
    from rag.service import RagService
    from tests.conftest import make_settings

    overrides = {}
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        if server.proc is None:
            server.start()
        overrides = {"chroma_host": "127.0.0.1", "chroma_port": server.port,
                     "collection": f"t{uuid.uuid4().hex[:10]}"}
    settings = make_settings(tmp_path, **overrides)
    settings.seeds_dir.mkdir(parents=True)
    return RagService(settings, embedder=CountingEmbedder(get_embedder(settings)))


def served_rows(service) -> tuple[set[str], int]:
    """The serving snapshot's articles and rows as the store holds them: the rows born by it and
    not removed by it (the collection also keeps rows removed an update ago)."""
    pointer = service.store.current()
    got = service.store.collection(pointer.collection_name).rows(
        RowFilter(born_at_most=pointer.seq, died_after=pointer.seq))
    return {m["article_id"] for m in got.metadatas}, len(got.ids)


def test_incremental_rebuild_cycle(rebuilding):
    corpus = rebuilding
    seeds, embedder, store = corpus.settings.seeds_dir, corpus.embedder, corpus.store
    write_article(seeds, "park.txt", "Riverside park reopens", PARK)
    first = corpus.rebuild()
    assert counts(first) == (1, 0, 0, 0) and first.embedded_chunks == first.chunks > 0
    assert corpus.answer(TRAM_QUESTION).refused

    embedder.calls.clear()
    again = corpus.rebuild()
    assert counts(again) == (0, 0, 0, 1) and again.snapshot == first.snapshot
    assert embedder.calls == [] and again.embedded_chunks == 0

    write_article(seeds, "tram.txt", "Tram line approved", TRAM)
    added = corpus.rebuild()
    assert counts(added) == (1, 0, 0, 1) and added.snapshot != first.snapshot
    # Only the new article was embedded; the park's chunks were copied with their vectors.
    assert added.embedded_chunks == added.chunks - first.chunks == len(embedder.embedded_texts)
    assert all("Tram line approved" in text for text in embedder.embedded_texts)
    assert served_articles(corpus) == {"park", "tram"}
    assert served_rows(corpus) == ({"park", "tram"}, added.chunks)
    # Added in place: the same collection, holding the new rows beside the old.
    assert added.in_place and store.collections() == [first.snapshot]
    assert store.collection(first.snapshot).count() == added.chunks
    answer = corpus.answer(TRAM_QUESTION)
    assert not answer.refused and "420 million euros" in answer.answer
    assert {c.source for c in answer.citations} == {"tram.txt"}

    embedder.calls.clear()
    write_article(seeds, "tram.txt", "Tram line approved", TRAM.replace("420", "455"))
    updated = corpus.rebuild()
    assert counts(updated) == (0, 1, 0, 1)
    assert embedder.embedded_texts and all("Tram line approved" in t for t in embedder.embedded_texts)
    assert "455 million euros" in corpus.answer(TRAM_QUESTION).answer

    (seeds / "tram.txt").unlink()
    removed = corpus.rebuild()
    assert counts(removed) == (0, 0, 1, 1) and removed.chunks == first.chunks
    assert served_articles(corpus) == {"park"} and served_rows(corpus) == ({"park"}, first.chunks)
    assert corpus.answer(TRAM_QUESTION).refused
    # One collection; on disk, the serving snapshot and the one before it, each saved as a
    # delta over the folders it rests on, and nothing else.
    assert store.current().snapshot == removed.snapshot and store.collections() == [first.snapshot]
    folders = {p.name for p in (corpus.settings.index_dir / "snapshots").iterdir()}
    assert folders == set(chain(corpus.settings.index_dir, removed.snapshot)) | set(
        chain(corpus.settings.index_dir, updated.snapshot))
    assert (corpus.settings.index_dir / "snapshots" / removed.snapshot / "chunks.jsonl").read_text() == ""
    assert corpus.status()["last_build"].startswith("0 added, 0 updated, 1 removed, 1 unchanged")


def test_a_touched_but_unchanged_file_keeps_the_snapshot(corpus):
    path = write_article(corpus.settings.seeds_dir, "tram.txt", "Tram line approved", TRAM)
    first = corpus.rebuild()
    corpus.embedder.calls.clear()
    path.write_text(path.read_text() + "\n\n", encoding="utf-8")  # same article once cleaned
    again = corpus.rebuild()
    assert counts(again) == (0, 0, 0, 1) and again.snapshot == first.snapshot
    assert corpus.embedder.calls == []


def test_a_changed_chunking_reembeds_everything(tmp_path):
    settings = fast_settings(tmp_path, seeds_dir=SEEDS)
    embedder = FakeEmbedder()
    service = fast_service(settings, embedder=embedder)
    first = service.rebuild()
    embedder.calls.clear()
    rechunked = fast_service(settings.model_copy(update={"chunk_size": 120, "chunk_overlap": 20}),
                             store=service.store, embedder=embedder)
    second = rechunked.rebuild()
    assert second.updated == 1 and second.embedded_chunks == second.chunks > first.chunks
    assert len(embedder.embedded_texts) == second.chunks


class BrokenEmbedder(FakeEmbedder):
    def __init__(self):
        super().__init__()
        self.broken = False

    def embed(self, texts):
        if self.broken:
            raise RuntimeError("embedding server went away")
        return super().embed(texts)


def test_a_failed_rebuild_leaves_the_previous_index_serving(tmp_path):
    settings = fast_settings(tmp_path)
    write_article(settings.seeds_dir, "tram.txt", "Tram line approved", TRAM)
    embedder = BrokenEmbedder()
    service = fast_service(settings, embedder=embedder)
    first = service.rebuild()
    before = service.answer(TRAM_QUESTION).answer

    write_article(settings.seeds_dir, "park.txt", "Riverside park reopens", PARK)
    embedder.broken = True
    with pytest.raises(RuntimeError):
        service.rebuild()
    state = service.rebuild_state.public()
    assert state["state"] == "failed" and "embedding server went away" in state["error"]
    assert service.store.current().snapshot == first.snapshot
    # The rows it had added to the serving collection are gone again.
    assert service.store.collections() == [first.snapshot]
    assert service.store.collection(first.snapshot).count() == first.chunks
    embedder.broken = False
    assert service.answer(TRAM_QUESTION).answer == before

    retried = service.rebuild()
    assert counts(retried) == (1, 0, 0, 1) and service.rebuild_state.state == "idle"


def test_a_background_rebuild_runs_alone_and_then_serves(tmp_path):
    settings = fast_settings(tmp_path)
    write_article(settings.seeds_dir, "tram.txt", "Tram line approved", TRAM)
    embedder = BlockingEmbedder()
    service = fast_service(settings, embedder=embedder)
    service.start_rebuild()
    try:
        assert embedder.waiting.wait(10)
        assert service.rebuild_state.state == "running"
        with pytest.raises(RebuildInProgress):
            service.start_rebuild()
        with pytest.raises(RebuildInProgress):
            service.rebuild()
    finally:
        embedder.go.set()
    deadline = time.monotonic() + 10
    while service.rebuild_state.finished_at is None and time.monotonic() < deadline:
        time.sleep(0.01)
    state = service.rebuild_state.public()
    assert state["state"] == "idle" and state["last_summary"]["added"] == 1
    assert not service.answer(TRAM_QUESTION).refused


class FailsOnBatch(FakeEmbedder):
    def __init__(self, fail_at: int | None):
        super().__init__()
        self.fail_at = fail_at

    def embed(self, texts):
        if len(self.calls) == self.fail_at:
            raise RuntimeError("embedding server went away")
        return super().embed(texts)


def test_articles_are_embedded_in_batches_as_they_are_chunked(tmp_path, monkeypatch):
    """Progress counts articles up to all of them; a batch that fails mid-way stops the rebuild
    with nothing of it served, however many articles were still to be cut."""
    from rag.index import build, rows

    monkeypatch.setattr(rows, "EMBED_BATCH", 3)
    settings = fast_settings(tmp_path)
    for n in range(12):
        write_article(settings.seeds_dir, f"tram-{n:02}.txt", f"Tram line {n} approved",
                      TRAM.replace("Tuesday", f"day {n}"))
    store, events = FakeStore(), []

    def progress(stage, done, total):
        if stage == "embedding":
            events.append((done, total))

    failing = FailsOnBatch(fail_at=2)
    with pytest.raises(RuntimeError, match="went away"):
        build.rebuild(settings, progress=progress, store=store, embedder=failing)
    assert len(failing.calls) == 2 and store.current() is None and store.collections() == []

    events.clear()
    embedder = FailsOnBatch(fail_at=None)
    summary = build.rebuild(settings, progress=progress, store=store, embedder=embedder)
    assert summary.added == 12 and summary.embedded_chunks == summary.chunks
    assert len(embedder.calls) > 1 and all(len(batch) >= 3 for batch in embedder.calls[:-1])
    assert events[-1] == (12, 12)
    assert [done for done, _ in events] == sorted(done for done, _ in events)
    assert sum(map(len, embedder.calls)) == summary.chunks
    service = fast_service(settings, store=store, embedder=embedder)
    answer = service.answer("How much will tram line 7 cost?")
    assert not answer.refused and "420 million euros" in answer.answer
