"""A rebuild killed with SIGKILL at any moment leaves the previous index intact and answering,
and the next rebuild completes to the same index as a clean build."""

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from rag.index.rows_filter import RowFilter
from rag.index.store import Store
from tests.conftest import SEED_QUESTION, make_settings, rag_env

TOPICS = ["harbour", "railway", "election", "vaccine", "festival", "drought", "satellite", "bank",
          "museum", "factory", "airline", "university", "river", "stadium", "hospital", "court"]
CITIES = ["Lisbon", "Osaka", "Nairobi", "Lima", "Oslo", "Hanoi", "Quito", "Tunis", "Perth", "Cork"]


def synthetic_articles(folder, count=40, seed=7):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        topic, city = rng.choice(TOPICS), rng.choice(CITIES)
        sentences = [f"Officials in {city} said the {topic} project number {i} would cost "
                     f"{rng.randint(10, 900)} million after a review that lasted {rng.randint(2, 30)} months."
                     for _ in range(rng.randint(12, 20))]
        rows.append(json.dumps({"id": f"syn-{i}", "title": f"{city} {topic} update {i}",
                                "published": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                                "text": " ".join(sentences)}))
    (folder / "wire.jsonl").write_text("\n".join(rows) + "\n")


def index_contents(settings):
    """The serving snapshot's rows (born by it, not removed by it), by chunk id."""
    store = Store(settings)
    pointer = store.current()
    got = store.collection(pointer.collection_name).rows(RowFilter(born_at_most=pointer.seq,
                                                                   died_after=pointer.seq))
    rows = sorted((i.rpartition("@")[0], d, m["sha256"], m["title"])
                  for i, d, m in zip(got.ids, got.documents, got.metadatas))
    return pointer.snapshot, rows


def stray_rows(settings) -> int:
    """Rows that no snapshot serving now or an update ago can use: left by a killed update."""
    store = Store(settings)
    pointer = store.current()
    got = store.collection(pointer.collection_name).rows()
    return sum(1 for m in got.metadatas if m["born"] > pointer.seq or m["died"] < pointer.seq)


def run_index(env):
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_at_several_points_keeps_the_old_index_serving(store_settings, tmp_path, seeds_copy):
    settings = store_settings(index_dir=tmp_path / "a" / "index", seeds_dir=seeds_copy)
    env = rag_env(settings)
    assert run_index(env).wait(300) == 0
    serving, before = index_contents(settings)

    synthetic_articles(seeds_copy)
    clean = make_settings(tmp_path / "clean", seeds_dir=seeds_copy)  # embedded, as a reference
    started = time.perf_counter()
    assert run_index(rag_env(clean)).wait(300) == 0
    full = time.perf_counter() - started
    _, expected = index_contents(clean)

    for fraction in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95):
        proc = run_index(env)
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        snapshot, rows = index_contents(settings)
        if snapshot != serving:
            # Killed after the pointer moved: then the new snapshot must be whole.
            assert rows == expected
            serving, before = snapshot, rows
        else:
            assert rows == before
        asked = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", SEED_QUESTION],
                               env=env, capture_output=True, text=True, timeout=300)
        assert asked.returncode == 0, asked.stderr
        assert "400,000" in json.loads(asked.stdout)["answer"]

    done = run_index(env)
    out, _ = done.communicate(timeout=300)
    assert done.returncode == 0
    _, after = index_contents(settings)
    assert after == expected
    # What killed updates left in the collection is gone, and no other collection stays.
    assert stray_rows(settings) == 0
    assert Store(settings).collections() == [Store(settings).current().collection_name]


def test_a_failing_rebuild_leaves_the_old_index(store_settings, seeds_copy, monkeypatch):
    from rag.index import build as indexing
    settings = store_settings()
    indexing.rebuild(settings)
    serving, before = index_contents(settings)
    synthetic_articles(seeds_copy, count=3)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(indexing.files, "save", broken)
    with pytest.raises(OSError):
        indexing.rebuild(settings)
    assert index_contents(settings) == (serving, before)
    # The rows the failed update had added are gone again, its marks taken off.
    store = Store(settings)
    assert store.collections() == [serving] and stray_rows(settings) == 0
    assert store.collection(serving).count() == len(before)
