"""The fakes behave like the parts they stand for, where the product relies on it."""

import numpy as np
import pytest

from rag.errors import LlmError
from rag.index.store import Pointer
from tests.fakes import FakeCollection, FakeEmbedder, FakeLlm, FakeStore


def test_embedder_is_deterministic_normalised_and_close_for_shared_words():
    embedder = FakeEmbedder()
    a, b, c, empty = embedder.embed(["Tram lines approved", "the tram line", "Bread recipe", ""])
    assert a.shape == (384,) and a.dtype == np.float32
    assert np.isclose(np.linalg.norm(a), 1) and not empty.any()
    assert np.array_equal(a, FakeEmbedder().embed(["Tram lines approved"])[0])
    assert a @ b > 0.5 > a @ c
    assert np.array_equal(embedder.quick(["the tram line"])[0], b)


def collection():
    col = FakeCollection("c")
    vectors = np.eye(4, dtype=np.float32)
    col.add(ids=["a", "b", "c", "d"], embeddings=vectors, documents=["A", "B", "C", "D"],
            metadatas=[{"published_ts": 10.0, "source": "x.txt"}, {"published_ts": 20.0, "source": "y.txt"},
                       {"published_ts": 30.0, "source": "x.txt"}, {"source": "z.txt"}])
    return col


@pytest.mark.parametrize("where, expected", [
    (None, {"a", "b", "c", "d"}),
    ({"published_ts": {"$gte": 20.0}}, {"b", "c"}),
    ({"published_ts": {"$lte": 20.0}}, {"a", "b"}),
    ({"source": {"$in": ["x.txt", "z.txt"]}}, {"a", "c", "d"}),
    ({"source": "y.txt"}, {"b"}),
    ({"$and": [{"published_ts": {"$gte": 15.0}}, {"source": {"$in": ["x.txt"]}}]}, {"c"}),
])
def test_where_filters(where, expected):
    col = collection()
    assert set(col.get(where=where)["ids"]) == expected
    found = col.query(query_embeddings=[[1, 1, 1, 1]], n_results=10, where=where, include=["distances"])
    assert set(found["ids"][0]) == expected


def test_query_is_nearest_first_by_cosine_distance_and_get_pages():
    col = collection()
    found = col.query(query_embeddings=[[0.1, 0.0, 3.0, 0.5]], n_results=2,
                      include=["distances", "documents"])
    assert found["ids"] == [["c", "d"]] and found["documents"] == [["C", "D"]]
    assert found["distances"][0][0] == pytest.approx(1 - 3 / np.linalg.norm([0.1, 0, 3, 0.5]))
    assert col.count() == 4
    assert col.get(limit=2, offset=1, include=["embeddings"])["ids"] == ["b", "c"]
    col.delete(ids=["a"])
    assert col.count() == 3
    with pytest.raises(ValueError):
        col.add(ids=["e"], embeddings=[[0, 0, 0, 1]], metadatas=[{"url": None}])  # as Chroma refuses


def test_store_pointer_and_collections():
    store = FakeStore()
    assert store.current() is None
    first, second = store.new_snapshot_name(), store.new_snapshot_name()
    assert first != second and first.startswith("news-s")
    store.create_collection(first)
    store.create_collection(second)
    store.set_current(Pointer(first, 1.0, "fp", 1, 3, {"line": "ok"}))
    assert store.current() == Pointer(first, 1.0, "fp", 1, 3, {"line": "ok"})
    store.drop(second)
    store.drop(second)  # already gone: no error, as in the real store
    assert store.collections() == [first]
    with pytest.raises(ValueError):
        store.collection(second)


def test_llm_streams_records_and_fails_as_scripted():
    llm = FakeLlm(["Hello ", "[1]."])
    assert list(llm.stream([{"role": "user", "content": "q"}])) == ["Hello ", "[1]."]
    assert llm.complete([{"role": "user", "content": "again"}]) == "Hello [1]."
    assert llm.prompts == ["q", "again"]
    llm.reply, llm.raise_after = LlmError("boom"), 1
    stream = llm.stream([{"role": "user", "content": "q"}])
    assert next(stream)
    with pytest.raises(LlmError):
        next(stream)
