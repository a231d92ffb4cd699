"""Incremental rebuilds against a real Chroma: added, updated, removed, unchanged, skipped."""

import shutil
import subprocess
from dataclasses import replace
import sys
import uuid

import httpx
import pytest

from rag.errors import StoreUnavailable
from rag.index import snapshot_files as snap
from rag.index.build import fingerprint, rebuild
from rag.index.embedding import get_embedder
from rag.index.rows_filter import RowFilter
from rag.index.store import Store
from tests.conftest import SEED_QUESTION, SEEDS, make_settings, rag_env, write_article
from tests.helpers.counting import CountingEmbedder

TRAM = ("The city council approved the new tram line on Tuesday after a four-hour debate. "
        "Construction will begin in March and cost 420 million euros, the transport department said.")


def chroma_articles(settings):
    """The serving snapshot's articles and rows as Chroma holds them: the rows born by it and
    not yet removed by it (the collection also keeps rows removed an update ago)."""
    store = Store(settings)
    pointer = store.current()
    got = store.collection(pointer.collection_name).rows(RowFilter(born_at_most=pointer.seq,
                                                                   died_after=pointer.seq))
    return {m["article_id"] for m in got.metadatas}, len(got.ids)


def test_answers_from_either_store(store_settings, seeds_copy):
    from rag.service import RagService

    settings = store_settings()
    rebuild(settings)
    service = RagService(settings)
    answer = service.answer("How many electric vehicles does Xiaomi plan to deliver in 2025?")
    assert "400,000" in answer.answer and answer.citations
    assert service.answer("Who won the football World Cup final in Qatar?").refused


def test_chunks_carry_title_and_date(seed_settings):
    store = Store(seed_settings)
    pointer = store.current()
    got = store.collection(pointer.collection_name).rows()
    for meta in got.metadatas:
        assert meta["title"].startswith("Xiaomi raises 2025")
        assert meta["published"] == "2025-11-21T10:20:00"
        assert meta["source"] == "000_91fdc298d10704eb.txt"
    snapshot = snap.load_cached(seed_settings.index_dir, pointer.snapshot)
    # What was embedded (and BM25-indexed) starts with the headline and date.
    assert len(snapshot) == len(got.ids)
    assert pointer.fingerprint == fingerprint(seed_settings)
    assert not any("Bybit" in doc for doc in got.documents)


def test_bad_files_are_skipped_and_the_rest_indexed_with_exit_0(tmp_path, seeds_copy):
    (seeds_copy / "empty.txt").write_text("")
    (seeds_copy / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    (seeds_copy / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (seeds_copy / "bad.jsonl").write_text('{"id": "ok1", "title": "Fine", "text": "A fine line article about ports."}\n{oops\n')
    (seeds_copy / "latin.md").write_bytes("Titre\n\nD\xe9j\xe0 vu.".encode("latin-1"))
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=rag_env(settings),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "skipped empty.txt: empty file" in out
    assert "skipped photo.jpg: unsupported file type '.jpg'" in out
    assert "skipped binary.txt: binary file" in out
    assert "skipped bad.jsonl:2: malformed JSON line" in out
    assert "skipped latin.md: not valid UTF-8" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("2 added, 0 updated, 0 removed, 0 unchanged, 5 skipped")
    ids, _ = chroma_articles(settings)
    assert ids == {"000_91fdc298d10704eb", "ok1"}


def test_duplicate_articles_under_two_names_are_indexed_once(tmp_path, seeds_copy):
    shutil.copy(SEEDS / "000_91fdc298d10704eb.txt", seeds_copy / "copy-of-seed.txt")
    summary = rebuild(make_settings(tmp_path, seeds_dir=seeds_copy))
    assert summary.articles == 1
    [skip] = summary.skipped
    assert "same text as" in skip["reason"]


def test_a_changed_embedder_setting_reembeds_everything(tmp_path, seeds_copy):
    settings = make_settings(tmp_path)
    first = rebuild(settings)
    changed = make_settings(tmp_path, chunk_size=120, chunk_overlap=20)
    second = rebuild(changed)
    assert second.updated == 1 and second.embedded_chunks == second.chunks > first.chunks


def _as_built_before_the_rename(settings) -> str:
    """Turn a fresh index into what main built before "generation" became "snapshot": a `-g`
    collection, a pointer under the `generation` key, and the cache under index/generations/."""
    store = Store(settings)
    pointer = store.current()
    old_name = pointer.snapshot.replace(f"{settings.collection}-s", f"{settings.collection}-g", 1)
    store.client.get_collection(pointer.snapshot).modify(name=old_name)
    # Nor did it know collections updated in place.
    meta = {k: v for k, v in pointer.as_metadata().items()
            if k not in ("snapshot", "collection", "seq", "deleted_rows")}
    store.client.get_collection(f"{settings.collection}-meta").modify(
        metadata={"kind": "pointer", **meta, "generation": old_name})
    (settings.index_dir / "generations").mkdir()
    shutil.move(settings.index_dir / "snapshots" / pointer.snapshot,
                settings.index_dir / "generations" / old_name)
    return old_name


def test_an_index_built_before_the_rename_still_serves(store_settings, seeds_copy):
    from rag.service import RagService

    settings = store_settings()
    rebuild(settings)
    old_name = _as_built_before_the_rename(settings)
    assert "snapshot" not in Store(settings).client.get_collection(f"{settings.collection}-meta").metadata

    answer = RagService(settings).answer("How many electric vehicles does Xiaomi plan to deliver in 2025?")
    assert not answer.refused and "400,000" in answer.answer

    again = rebuild(settings)  # nothing changed: nothing re-embedded, the old snapshot still serves
    assert again.embedded_chunks == 0 and again.snapshot == old_name

    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    added = rebuild(settings)
    assert added.embedded_chunks == added.chunks - again.chunks  # the seed article was copied
    store = Store(settings)
    assert store.current().snapshot == added.snapshot and set(store.collections()) == {old_name, added.snapshot}
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM + " The mayor welcomed the vote.")
    rebuild(settings)
    assert old_name not in Store(settings).collections()  # old collections are collected like new ones
    assert not any((settings.index_dir / "generations").iterdir())


def failing_once(real, exc: Exception):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise exc
        return real(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("failure", ["snapshot load", "chroma read"])
def test_a_failed_read_of_the_serving_snapshot_stops_the_rebuild(store_settings, seeds_copy,
                                                                 monkeypatch, failure):
    from rag.service import RagService

    settings = store_settings()
    seed_only = rebuild(settings)
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    serving = rebuild(settings)
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM + " The mayor welcomed the vote.")
    store = Store(settings)
    pointer, snapshots = store.current(), store.collections()
    if failure == "snapshot load":
        monkeypatch.setattr(snap, "load", failing_once(snap.load, ConnectionError("connection reset")))
    else:
        # No local cache (another machine, say), and Chroma does not answer in time once.
        shutil.rmtree(snap.folder(settings.index_dir, serving.snapshot))
        monkeypatch.setattr(Store, "collection",
                            failing_once(Store.collection, httpx.ReadTimeout("timed out")))
    embedder = CountingEmbedder(get_embedder(settings))

    with pytest.raises(StoreUnavailable, match="previous index is unchanged and still serving"):
        rebuild(settings, embedder=embedder)
    assert embedder.embedded_texts == []
    store = Store(settings)
    assert store.current() == pointer and store.collections() == snapshots
    assert "400,000" in RagService(settings).answer(SEED_QUESTION).answer

    again = rebuild(settings, embedder=embedder)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 1, 0, 1)
    assert again.embedded_chunks == len(embedder.embedded_texts) == again.chunks - seed_only.chunks
    assert all(text.startswith("Tram line approved") for text in embedder.embedded_texts)
    assert Store(settings).collections() == [seed_only.snapshot]  # updated in place


def test_a_serving_collection_deleted_by_hand_is_built_again(store_settings, seeds_copy):
    settings = store_settings()
    first = rebuild(settings)
    Store(settings).client.delete_collection(first.snapshot)
    shutil.rmtree(snap.folder(settings.index_dir, first.snapshot))
    again = rebuild(settings)
    assert again.added == 1 and again.embedded_chunks == again.chunks == first.chunks
    assert Store(settings).collections() == [again.snapshot]


def test_garbage_collection_keeps_what_served_and_what_serves(store_settings, seeds_copy):
    from rag.index.build import _collect_garbage

    settings = store_settings()
    first = rebuild(settings)
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    second = rebuild(settings)
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM + " The mayor welcomed the vote.")
    third = rebuild(settings)
    store = Store(settings)
    serving_then = store.current()
    assert second.in_place and third.in_place and store.collections() == [first.snapshot]
    built, orphan = store.new_snapshot_name(), store.new_snapshot_name()
    store.create_collection(built)
    store.create_collection(orphan)
    (settings.index_dir / "snapshots" / "news-s20200101000000-abcdef").mkdir()  # a killed one's
    # A compaction that started while `third` served and built `built`, while another machine's
    # rebuild had moved the pointer on (here: back to `second`).
    store.set_current(replace(serving_then, snapshot=second.snapshot))
    _collect_garbage(store, settings.index_dir, built=(built, built), serving=serving_then)
    assert set(store.collections()) == {first.snapshot, built}
    # The folders the serving snapshots rest on stay; they all rest on the first one.
    assert {p.name for p in (settings.index_dir / "snapshots").iterdir()} == {
        first.snapshot, second.snapshot, third.snapshot}


def _jsonl(path, *records):
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_unsafe_urls_are_removed_and_counted_by_the_rebuild(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _jsonl(seeds / "feed.jsonl",
           {"id": "tram", "title": "Tram line approved", "text": TRAM,
            "url": "javascript:alert(document.cookie)"},
           {"id": "park", "title": "Park reopens", "url": "data:text/html,<script>alert(1)</script>",
            "text": "The riverside park reopened on Saturday after repairs that took eight months."},
           {"id": "ferry", "title": "Ferry fares frozen", "url": "https://news.example.org/ferry",
            "text": "Ferry fares to the islands will stay frozen until 2027, the operator said."})
    settings = make_settings(tmp_path, seeds_dir=seeds)
    summary = rebuild(settings)
    assert summary.added == 3 and summary.unsafe_urls == 2
    assert "2 unsafe URLs removed" in summary.line()
    got = Store(settings).collection(summary.snapshot).rows()
    urls = {m["article_id"]: m.get("url") for m in got.metadatas}
    assert urls == {"tram": None, "park": None, "ferry": "https://news.example.org/ferry"}

    (seeds / "feed.jsonl").unlink()
    write_article(seeds, "tram.txt", "Tram line approved", TRAM)
    clean = rebuild(settings, confirm_removal=True)  # two of the three articles go, on purpose
    assert clean.unsafe_urls == 0 and "unsafe" not in clean.line()


def test_a_record_moved_to_another_file_is_cited_from_there(tmp_path):
    from rag.service import RagService

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    tram = {"id": "tram", "title": "Tram line approved", "text": TRAM, "published": "2025-11-20"}
    _jsonl(seeds / "a.jsonl", tram)
    settings = make_settings(tmp_path, seeds_dir=seeds)
    first = rebuild(settings)
    (seeds / "a.jsonl").unlink()
    _jsonl(seeds / "b.jsonl", tram)
    moved = rebuild(settings)
    assert (moved.added, moved.updated, moved.removed) == (0, 0, 0)
    assert moved.embedded_chunks == 0 and moved.chunks == first.chunks  # copied, not re-embedded
    # Carried to new rows that name the new file; the old rows are marked removed by it.
    assert chroma_articles(settings) == ({"tram"}, first.chunks)
    pointer = Store(settings).current()
    got = Store(settings).collection(pointer.collection_name).rows()
    live = [m for m in got.metadatas if m["died"] > pointer.seq]
    assert {m["source"] for m in live} == {"b.jsonl"} and len(got.ids) == 2 * first.chunks
    snapshot = snap.load_cached(settings.index_dir, Store(settings).current().snapshot)
    assert {r["source"] for r in snapshot.records} == {"b.jsonl"}
    assert snapshot.articles["tram"].source == "b.jsonl"
    answer = RagService(settings).answer("How much will the new tram line cost?")
    assert not answer.refused and {c.source for c in answer.citations} == {"b.jsonl"}


def test_indexes_with_overlapping_prefixes_share_a_chroma_server(store_settings, tmp_path):
    # "news" and "news-staging" on one server: rebuilding one never collects the other's snapshots.
    news = store_settings(collection="news", index_dir=tmp_path / "news", seeds_dir=tmp_path / "s1")
    staging = store_settings(collection="news-staging", index_dir=tmp_path / "staging",
                             seeds_dir=tmp_path / "s2")
    if news.chroma_host:  # the shared session server: give both a prefix of their own
        unique = f"t{uuid.uuid4().hex[:8]}"
        news = news.model_copy(update={"collection": unique})
        staging = staging.model_copy(update={"collection": f"{unique}-staging"})
    write_article(news.seeds_dir, "tram.txt", "Tram line approved", TRAM)
    write_article(staging.seeds_dir, "tram.txt", "Tram line approved", TRAM)
    rebuild(staging)
    staged = Store(staging).current().snapshot
    for extra in ("The mayor welcomed the vote.", "Work starts in March.", "Fares stay the same."):
        write_article(news.seeds_dir, "tram.txt", "Tram line approved", f"{TRAM} {extra}")
        rebuild(news)
    assert Store(staging).current().snapshot == staged
    assert staged in Store(staging).collections() and staged not in Store(news).collections()
