"""Updates that cost what changed, over the fakes: only changed files are read, the boilerplate
signal follows the folder, snapshots saved as deltas read back whole in another process, and
compaction bounds the rows that deletions leave. The real-Chroma twin: tests/test_updates.py."""

import json

import numpy as np
import pytest

from rag.index import plan, snapshot_files
from rag.index.snapshot_files import MAX_CHAIN
from rag.ingest import file_cache
from tests.conftest import write_article
from tests.fakes import FakeEmbedder, FakeStore
from tests.fast.conftest import fast_service, fast_settings

FURNITURE = "Sign up for the Morning Brief, our daily newsletter, delivered every weekday."


def story(n: int, furniture: bool = False) -> str:
    body = (f"The harbour authority of port number {n} approved a dredging plan on Monday. "
            f"It will cost {100 + n} million euros and take {n % 9 + 2} years, officials said.")
    return body + (f"\n\n{FURNITURE}" if furniture else "")


def ports(tmp_path, count: int):
    """A service over `count` port articles, built."""
    settings = fast_settings(tmp_path)
    for n in range(count):
        write_article(settings.seeds_dir, f"port-{n}.txt", f"Port {n} dredging approved", story(n))
    service = fast_service(settings)
    service.rebuild()
    return service


@pytest.fixture
def archive(tmp_path):
    return ports(tmp_path, 6)


def counting_reads(monkeypatch) -> list[str]:
    read = []
    real = file_cache.load_file

    def load_file(path, source):
        read.append(source)
        return real(path, source)

    monkeypatch.setattr(file_cache, "load_file", load_file)
    return read


def test_only_changed_files_are_read(archive, monkeypatch):
    read = counting_reads(monkeypatch)
    seeds = archive.settings.seeds_dir
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    (seeds / "port-2.txt").unlink()
    summary = archive.rebuild()
    assert (summary.added, summary.removed, summary.unchanged) == (1, 1, 5)
    # A changed file is read for its paragraph keys, then again to be cleaned (the raw archive
    # is never held whole); the others not at all.
    assert set(read) == {"port-9.txt"} and summary.in_place
    read.clear()
    assert archive.rebuild().unchanged == 6 and read == []


def articles_of(service) -> dict[str, str]:
    return {a.id: a.sha256 for a in service.articles()}


def test_boilerplate_found_across_files_as_they_come_and_go(archive, tmp_path):
    """A paragraph in two articles is text; a third makes it furniture and cleaning drops it
    from all three; the same index as cleaning the whole folder at once, both ways."""
    seeds = archive.settings.seeds_dir
    for n in (0, 1):
        write_article(seeds, f"port-{n}.txt", f"Port {n} dredging approved", story(n, furniture=True))
    archive.rebuild()
    assert FURNITURE in archive.answer("What does the Morning Brief newsletter deliver?").answer
    write_article(seeds, "port-7.txt", "Port 7 dredging approved", story(7, furniture=True))
    third = archive.rebuild()
    assert (third.added, third.updated) == (1, 2)  # the first two lost their furniture
    fresh = fast_service(fast_settings(tmp_path / "fresh", seeds_dir=seeds))
    fresh.rebuild()
    assert articles_of(archive) == articles_of(fresh)
    assert all(FURNITURE not in r["text"] for r in archive.serving.records)

    (seeds / "port-7.txt").unlink()
    gone = archive.rebuild()
    assert (gone.removed, gone.updated) == (1, 2)  # the furniture is text again
    fresh = fast_service(fast_settings(tmp_path / "fresh-again", seeds_dir=seeds))
    fresh.rebuild()
    assert articles_of(archive) == articles_of(fresh)


def same_snapshot(a, b):
    assert a.name == b.name and a.ids == b.ids and a.records == b.records
    assert np.array_equal(a.vectors, b.vectors)
    assert a.stories == b.stories and a.article_order == b.article_order
    assert a.articles == b.articles
    for words in (["harbour", "dredg"], ["million", "euro", "port"]):
        assert np.allclose(a.bm25.scores(words), b.bm25.scores(words))
        assert np.allclose(a.article_bm25.scores(words), b.article_bm25.scores(words))


def test_deltas_read_back_as_the_snapshot_the_server_made(archive):
    index_dir, seeds = archive.settings.index_dir, archive.settings.seeds_dir
    for n in range(10, 10 + MAX_CHAIN + 2):
        write_article(seeds, f"port-{n}.txt", f"Port {n} dredging approved", story(n))
        (seeds / f"port-{n - 10}.txt").unlink(missing_ok=True)
        archive.rebuild()
        served = archive.serving
        info = json.loads((snapshot_files.folder(index_dir, served.name) / "info.json").read_text())
        # Each folder holds what its update changed, until a chain grows long: then it is whole.
        assert len(snapshot_files.chain(index_dir, served.name)) <= MAX_CHAIN + 1
        if info["base"]:
            assert len((snapshot_files.folder(index_dir, served.name) / "chunks.jsonl")
                       .read_text().splitlines()) == served.articles[f"port-{n}"].chunks
        # Another process, reading the folders alone, gets the very snapshot the server made.
        same_snapshot(snapshot_files.load_cached(index_dir, served.name), served)
    assert any(json.loads((p / "info.json").read_text())["base"] is None
               for p in (index_dir / "snapshots").iterdir())


def test_a_server_follows_another_process_by_applying_its_delta(archive, monkeypatch):
    """A `rag rebuild` in another process moves the pointer; the server reads that update's
    folder only, on top of the snapshot it holds."""
    other = fast_service(archive.settings, store=archive.store, embedder=archive.embedder)
    write_article(archive.settings.seeds_dir, "port-9.txt", "Port 9 dredging approved", story(9))
    before = archive.serving
    other.rebuild()
    applied = []
    real = snapshot_files._apply

    def counting(index_dir, name, base):
        applied.append(name)
        return real(index_dir, name, base)

    monkeypatch.setattr(snapshot_files, "_apply", counting)
    archive.refresh(force=True)
    assert applied == [other.serving.name] and archive.serving.history.base == before.name
    same_snapshot(archive.serving, other.serving)
    assert "109 million euros" in archive.answer("How much will port 9's dredging cost?").answer


def test_deletions_are_compacted_into_a_new_collection(archive, monkeypatch):
    monkeypatch.setattr(plan, "COMPACT_MIN_ROWS", 1)
    monkeypatch.setattr(plan, "REWRITE_SHARE", 0.1)
    seeds, store = archive.settings.seeds_dir, archive.store
    first = store.current()
    (seeds / "port-0.txt").unlink()
    removal = archive.rebuild()
    collection = store.collection(first.collection_name)
    # Removed rows wait an update (a reader may still be on the snapshot before) ...
    assert removal.in_place and collection.count() > removal.chunks
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    # ... and then they are deleted; past the share, the next update compacts.
    assert archive.rebuild().in_place and store.current().deleted_rows > 0
    write_article(seeds, "port-10.txt", "Port 10 dredging approved", story(10))
    compacted = archive.rebuild()
    # A whole build that carries the live rows' vectors and embeds only the new article.
    assert not compacted.in_place
    assert compacted.embedded_chunks == archive.serving.articles["port-10"].chunks
    pointer = store.current()
    assert pointer.deleted_rows == 0 and store.collection(pointer.collection_name).count() == compacted.chunks
    assert "110 million euros" in archive.answer("How much will port 10's dredging cost?").answer
    # The old collection stays while a reader may be finishing on it, and goes with the next update.
    assert store.collections() == sorted([first.collection_name, pointer.collection_name])
    write_article(seeds, "port-11.txt", "Port 11 dredging approved", story(11))
    assert archive.rebuild().in_place and store.collections() == [pointer.collection_name]


def test_a_cache_of_another_folder_or_cleaning_is_not_used(tmp_path, monkeypatch):
    settings = fast_settings(tmp_path)
    write_article(settings.seeds_dir, "port-1.txt", "Port 1 dredging approved", story(1))
    service = fast_service(settings, store=FakeStore(), embedder=FakeEmbedder())
    service.rebuild()
    read = counting_reads(monkeypatch)
    moved = tmp_path / "elsewhere"
    settings.seeds_dir.rename(moved)
    service.rebuild(seeds=moved)
    assert set(read) == {"port-1.txt"}
    read.clear()
    monkeypatch.setattr(file_cache, "SCHEMA", "another cleaning")
    service.rebuild(seeds=moved)
    assert set(read) == {"port-1.txt"}


def test_a_crossing_in_a_collection_file_cleans_only_the_articles_it_touches(tmp_path, monkeypatch):
    settings = fast_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    records = [{"id": f"port-{n}", "title": f"Port {n} dredging approved",
                "text": story(n, furniture=n < 2), "published": "2025-11-20"}
               for n in range(4)]
    (settings.seeds_dir / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    service = fast_service(settings)
    service.rebuild()
    cleaned = []
    real = file_cache.clean_article
    monkeypatch.setattr(file_cache, "clean_article",
                        lambda raw, shared: cleaned.append(raw.id) or real(raw, shared))
    write_article(settings.seeds_dir, "port-7.txt", "Port 7 dredging approved", story(7, furniture=True))
    crossed = service.rebuild()
    assert (crossed.added, crossed.updated) == (1, 2)
    # The collection file is parsed again, but only the two articles holding the line are cleaned.
    assert sorted(cleaned) == ["port-0", "port-1", "port-7"]
    fresh = fast_service(fast_settings(tmp_path / "fresh", seeds_dir=settings.seeds_dir))
    fresh.rebuild()
    assert articles_of(service) == articles_of(fresh)


def test_a_new_chunking_reads_a_collection_file_once(tmp_path, monkeypatch):
    """Every article must be embedded again, none of its file changed: the file is parsed once
    for all of them, not once per article."""
    settings = fast_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    records = [{"id": f"port-{n}", "title": f"Port {n} dredging approved", "text": story(n)}
               for n in range(5)]
    (settings.seeds_dir / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    store, embedder = FakeStore(), FakeEmbedder()
    first = fast_service(settings, store=store, embedder=embedder).rebuild()
    read = counting_reads(monkeypatch)
    rechunked = fast_service(settings.model_copy(update={"chunk_size": 120, "chunk_overlap": 20}),
                             store=store, embedder=embedder).rebuild()
    assert rechunked.updated == 5 and rechunked.embedded_chunks == rechunked.chunks >= first.chunks
    assert read == ["wire.jsonl"]


def test_article_ids_that_look_like_row_ids_are_found(tmp_path):
    """Row ids are `article::n@snapshot`; an article's own id may hold "::" and "@" (ids come
    from files and records), and its rows must still be found as its own, before and after an
    update."""
    settings = fast_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    odd = ["wire@2::1", "a::b@7", "@3"]
    # Three different stories (near-identical texts would be folded into one as copies).
    texts = ["The tram line through the old town opens in May, the transit agency said on Monday.",
             "Farmers in the valley expect a record apple harvest after a mild and rainy spring.",
             "The city library will lend musical instruments from next year, its director said."]
    records = [{"id": article_id, "title": text.split(",")[0], "text": text}
               for article_id, text in zip(odd, texts)]
    (settings.seeds_dir / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    service = fast_service(settings)
    service.rebuild()
    write_article(settings.seeds_dir, "port-9.txt", "Port 9 dredging approved", story(9))
    assert service.rebuild().in_place
    snapshot = service.serving
    for n, article_id in enumerate(odd):
        entry = snapshot.articles[article_id]
        row_ids = [snapshot.ids[snapshot.first_row[article_id] + i] for i in range(entry.chunks)]
        assert [snapshot.row_of(r) for r in row_ids] == [
            snapshot.first_row[article_id] + i for i in range(entry.chunks)]
        question = ["When does the tram line open?", "What harvest do the valley farmers expect?",
                    "What will the city library lend?"][n]
        answer = service.answer(question)
        assert {c.article_id for c in answer.citations} == {article_id}, question


def test_copies_found_by_an_update_as_by_a_grouping_of_all(archive):
    """A process that updates keeps the sketches' band keys and keys only what it adds: copies
    added over several updates, one of them removed, group as a grouping from scratch does."""
    from rag.index.copies import group_stories

    seeds = archive.settings.seeds_dir
    for step, (copy_of, gone) in enumerate([(1, None), (2, None), (3, "port-1-copy.txt"), (1, "port-2.txt")]):
        write_article(seeds, f"port-{copy_of}-copy{'-again' if step == 3 else ''}.txt",
                      f"Port {copy_of} dredging approved", story(copy_of) + " Reporting by staff.")
        if gone:
            (seeds / gone).unlink()
        archive.rebuild()
        served = archive.serving
        assert served.band_keys is not None and len(served.band_keys) == len(served.article_order)
        assert served.stories == group_stories(served.article_order, np.asarray(served.sketches))
    assert served.story_of("port-1-copy-again") == served.story_of("port-1") == "port-1"
    assert served.story_of("port-3-copy") == "port-3" and "port-2-copy" not in served.stories


def test_bm25_over_many_updates_scores_as_one_built_at_once():
    """Past MAX_SEGMENTS the small segments are stacked, and past MAX_DEAD_SHARE of removed
    documents all are merged: scores stay those of an index of the live rows built at once."""
    from rag.index.lexical import MAX_SEGMENTS, Bm25Index, Vocabulary

    rng = np.random.default_rng(3)
    words = [f"w{n}" for n in range(60)]

    def docs(count, spread=20):  # later documents bring new terms: the vocabulary widens
        return [list(rng.choice(words[:spread], size=int(rng.integers(3, 12)))) for _ in range(count)]

    vocab = Vocabulary()
    live = docs(200)
    index = Bm25Index.from_counts(vocab, vocab.counts(live))
    seen_tail_merge = False
    for step in range(3 * MAX_SEGMENTS):
        gone = sorted(rng.choice(len(live), size=60 if step == 2 * MAX_SEGMENTS else 2, replace=False).tolist())
        keep = np.setdiff1d(np.arange(len(live)), gone)
        added = docs(5, spread=20 + 2 * step)
        before = len(index.segments)
        index = index.derive(keep, vocab.counts(added), vocab.counts([live[i] for i in gone]))
        live = [live[i] for i in keep] + added
        seen_tail_merge |= before == MAX_SEGMENTS and len(index.segments) == 2
        assert len(index.segments) <= MAX_SEGMENTS
        fresh = Bm25Index.from_counts(Vocabulary(vocab.terms), Vocabulary(vocab.terms).counts(live))
        for query in (["w1", "w7"], ["w30", "w2", "w2"], ["w55"]):
            assert np.allclose(index.scores(query), fresh.scores(query), atol=1e-5)
    assert seen_tail_merge, "no update stacked the small segments while removed documents remained"
