"""Updates in place against a real Chroma (embedded and server) and the real embedder: a reader
still on the snapshot before sees it whole while the update's rows land in the same collection,
a new reader sees the new one, and removed rows are gone one update later."""

from rag.index.build import rebuild
from rag.index.store import Store
from rag.service import RagService
from tests.conftest import write_article

TRAM = ("The city council approved the new tram line on Tuesday after a four-hour debate. "
        "Construction will begin in March and cost 420 million euros, the transport department said.")
PARK = ("The riverside park reopened on Saturday after a flood-damage repair that took eight months. "
        "The gardens were replanted with 3,000 native shrubs, the parks office said.")
TRAM_QUESTION = "How much will the new tram line cost?"
PARK_QUESTION = "How many native shrubs were planted in the riverside park?"


def cited(service, question) -> set[str]:
    answer = service.answer(question)
    return set() if answer.refused else {c.source for c in answer.citations}


def test_readers_see_the_old_snapshot_or_the_new_never_a_mix(store_settings, seeds_copy):
    settings = store_settings()
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    rebuild(settings)
    old_reader = RagService(settings)
    assert cited(old_reader, TRAM_QUESTION) == {"tram.txt"}

    (seeds_copy / "tram.txt").unlink()
    write_article(seeds_copy, "park.txt", "Riverside park reopens", PARK)
    update = rebuild(settings)  # another process's update, say: the old reader has not looked
    assert update.in_place and (update.added, update.removed) == (1, 1)
    store = Store(settings)
    collection = store.collection(store.current().collection_name)
    assert collection.count() == update.chunks + old_reader.serving.articles["tram"].chunks

    # The old reader's snapshot is whole: the tram article answers, the park's rows (in the same
    # collection now) are not its own and never reach its answers.
    assert cited(old_reader, TRAM_QUESTION) == {"tram.txt"}
    assert "park.txt" not in cited(old_reader, PARK_QUESTION)
    new_reader = RagService(settings)
    assert cited(new_reader, PARK_QUESTION) == {"park.txt"}
    assert "tram.txt" not in cited(new_reader, TRAM_QUESTION)

    old_reader.refresh(force=True)  # it follows the pointer by applying the update
    assert old_reader.serving.name == update.snapshot
    assert cited(old_reader, PARK_QUESTION) == {"park.txt"}

    # The next update deletes the rows removed an update ago.
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    again = rebuild(settings)
    assert again.in_place and collection.count() == again.chunks
    assert cited(RagService(settings), TRAM_QUESTION) == {"tram.txt"}
