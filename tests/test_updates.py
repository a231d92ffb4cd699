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


def test_rag_index_changed_reads_the_named_files_alone(store_settings, seeds_copy, tmp_path):
    """`rag index --changed PATH...`, as a folder watcher or a sync job would call it, with the
    real store and embedder: the named files land in place, a file changed but not named waits
    for the next scan of the whole folder, and a path outside the folder changes nothing."""
    import subprocess
    import sys

    from tests.conftest import rag_env

    settings = store_settings(seeds_dir=seeds_copy)

    def rag_index(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.cli", "index", *args],
                              env=rag_env(settings), capture_output=True, text=True, timeout=600,
                              cwd=seeds_copy)

    assert rag_index().returncode == 0
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    write_article(seeds_copy, "park.txt", "Riverside park reopens", PARK)
    named = rag_index("--changed", "tram.txt")  # relative to where it runs, as a shell gives it
    assert named.returncode == 0 and "1 added" in named.stdout, named.stderr
    service = RagService(settings)
    assert cited(service, TRAM_QUESTION) == {"tram.txt"}
    assert "park" not in service.serving.articles
    outside = rag_index("--changed", str(tmp_path / "elsewhere.txt"))
    assert outside.returncode == 5 and "not a file in the seeds folder" in outside.stderr
    whole = rag_index()
    assert whole.returncode == 0 and "1 added" in whole.stdout
    assert cited(RagService(settings), PARK_QUESTION) == {"park.txt"}
