"""The store's Collection protocol, one contract: the same cases on the fake (tests/fakes.py)
and on Chroma's own in-memory client through rag.index.store.ChromaCollection, so the fake
tier's store means what the product's store means."""

import uuid

import numpy as np
import pytest

from rag.index.rows_filter import RowFilter
from rag.index.snapshot import ALIVE
from tests.fakes import FakeCollection
from tests.fast.conftest import BOTH_TIERS

ROWS = {  # id: metadata, each row's vector is its own axis
    "a": {"published_ts": 10.0, "source": "x.txt", "born": 1, "died": ALIVE},
    "b": {"published_ts": 20.0, "source": "y.txt", "born": 1, "died": 2},
    "c": {"published_ts": 30.0, "source": "x.txt", "born": 2, "died": ALIVE},
    "d": {"source": "z.txt", "born": 3, "died": ALIVE},  # undated, added by an update under way
}


@pytest.fixture(params=BOTH_TIERS)
def collection(request):
    if request.param == "fake":
        col = FakeCollection("c")
    else:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from rag.index.store import ChromaCollection

        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        col = ChromaCollection(client.create_collection(
            f"contract-{uuid.uuid4().hex[:8]}", embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}}))
    col.add(list(ROWS), np.eye(4, dtype=np.float32), [i.upper() for i in ROWS], list(ROWS.values()))
    return col


@pytest.mark.parametrize("where, expected", [
    (None, {"a", "b", "c", "d"}),
    (RowFilter(published_from=20.0), {"b", "c"}),  # an undated row never matches a date bound
    (RowFilter(published_until=20.0), {"a", "b"}),
    (RowFilter(sources=("x.txt", "z.txt")), {"a", "c", "d"}),
    (RowFilter(published_from=15.0, sources=("x.txt",)), {"c"}),
    (RowFilter(born_at_most=2, died_after=2), {"a", "c"}),  # snapshot 2's rows
    (RowFilter(born_after=2), {"d"}),
    (RowFilter(died_at_most=2), {"b"}),
    (RowFilter(died_after=1, died_before=ALIVE), {"b"}),
])
def test_filters_mean_the_same_in_every_store(collection, where, expected):
    assert set(collection.rows(where).ids) == expected
    if where is not None:
        assert set(collection.ids(where)) == expected
    assert set(collection.nearest([1, 1, 1, 1], 10, where)) == expected


def test_nearest_first_by_cosine_and_rows_page_without_overlap(collection):
    assert collection.nearest([0.1, 0.0, 3.0, 0.5], 2) == ["c", "d"]
    assert collection.nearest([0.0, 2.0, 0.1, 0.0], 1, RowFilter(sources=("y.txt",))) == ["b"]
    assert collection.count() == 4
    pages = [collection.rows(limit=2, offset=start, vectors=True) for start in (0, 2, 4)]
    assert [len(p.ids) for p in pages] == [2, 2, 0]
    seen = pages[0].ids + pages[1].ids
    assert sorted(seen) == ["a", "b", "c", "d"]
    for page in pages[:2]:
        for row_id, vector, meta, text in zip(page.ids, page.vectors, page.metadatas, page.documents):
            assert np.argmax(vector) == list(ROWS).index(row_id) and meta == ROWS[row_id]
            assert text == row_id.upper()


def test_metadata_updates_and_deletes_show_in_every_read(collection):
    collection.update_metadata(["b"], [{**ROWS["b"], "died": ALIVE}])
    assert set(collection.ids(RowFilter(died_after=2))) == {"a", "b", "c", "d"}
    collection.delete(["a", "d"])
    assert collection.count() == 2 and set(collection.rows().ids) == {"b", "c"}
    assert collection.nearest([0, 1, 0.5, 0], 4) == ["b", "c"]
