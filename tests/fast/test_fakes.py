"""The fakes behave like the parts they stand for, where the product relies on it (the fake
collection's contract with Chroma: tests/fast/test_collection.py)."""

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


def test_the_fake_collection_refuses_what_chroma_refuses():
    col = FakeCollection("c")
    with pytest.raises(ValueError):
        col.add(["e"], [[0, 0, 0, 1]], ["E"], [{"url": None}])
    col.add(["e"], [[0, 0, 0, 1]], ["E"], [{"url": "https://example.com/e"}])
    with pytest.raises(ValueError):
        col.add(["e"], [[0, 0, 1, 0]], ["E"], [{}])


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
