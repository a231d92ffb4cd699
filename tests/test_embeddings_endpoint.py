"""Embeddings from an OpenAI-compatible /v1/embeddings server instead of the bundled model."""

import shutil

from rag.index import snapshot_files as snap
from rag.index.embedding import OpenAIEmbedder, get_embedder
from rag.index.build import fingerprint, rebuild
from rag.service import RagService
from rag.index.store import Store
from tests.conftest import SEED_QUESTION, SEEDS, make_settings, write_article


def test_index_and_answer_through_an_embeddings_server(tmp_path, seeds_copy, llm):
    local = get_embedder(make_settings(tmp_path))
    llm.embed = local.embed
    settings = make_settings(tmp_path, embed_base_url=llm.base_url, embed_model="minilm-remote",
                             embed_api_key="emb-key")
    assert isinstance(get_embedder(settings), OpenAIEmbedder)
    summary = rebuild(settings)
    assert summary.embedded_chunks == summary.chunks > 0
    batches = [r for r in llm.requests if "input" in r]
    assert sum(len(r["input"]) for r in batches) == summary.chunks
    assert all(r["model"] == "minilm-remote" for r in batches)
    assert Store(settings).current().fingerprint == fingerprint(settings)
    assert fingerprint(settings).startswith("openai:minilm-remote")

    answer = RagService(settings).answer(SEED_QUESTION)
    assert "400,000" in answer.answer and answer.citations
    # The question was embedded by the server too.
    assert any(r.get("input") == [answer.query] for r in llm.requests)

    # Switching back to the bundled model re-embeds everything (another vector space).
    back = rebuild(make_settings(tmp_path))
    assert back.updated == 1 and back.embedded_chunks == back.chunks


# Bag-of-words cosines run at about half of MiniLM's, below the gate's trained threshold (see
# tests/fast/conftest.py).
HASHED_REFUSAL_THRESHOLD = 0.1
TRAM = ("The city council approved the new tram line on Tuesday after a four-hour debate. "
        "Construction will begin in March and cost 420 million euros, the transport department said.")


def served_width(settings, snapshot_name: str) -> int:
    """How wide the vectors are in Chroma and in the local cache of the serving snapshot."""
    pointer = Store(settings).current()
    assert pointer.snapshot == snapshot_name
    got = Store(settings).collection(pointer.collection_name).rows(limit=1, vectors=True)
    cached = snap.load_cached(settings.index_dir, snapshot_name)
    assert cached.vectors.shape[1] == got.vectors.shape[1]
    return cached.vectors.shape[1]


def asked_with(llm, answer) -> set[str]:
    return {r["model"] for r in llm.requests if r.get("input") == [answer.query]}


def test_models_of_other_widths_build_answer_and_switch(store_settings, seeds_copy, llm):
    llm.widths = {"hash-768": 768, "hash-1536": 1536}
    wide = store_settings(embed_base_url=llm.base_url, embed_model="hash-768",
                          refusal_threshold=HASHED_REFUSAL_THRESHOLD)
    write_article(seeds_copy, "tram.txt", "Tram line approved", TRAM)
    first = rebuild(wide)
    assert first.added == 2 and first.embedded_chunks == first.chunks > 0
    assert served_width(wide, first.snapshot) == 768
    old = RagService(wide, llm=None)
    answer = old.answer(SEED_QUESTION)
    assert "400,000" in answer.answer and asked_with(llm, answer) == {"hash-768"}

    # Only a removal: every vector is copied, none embedded.
    (seeds_copy / "tram.txt").unlink()
    removed = rebuild(wide)
    assert removed.removed == 1 and removed.embedded_chunks == 0
    assert served_width(wide, removed.snapshot) == 768

    wider = store_settings(embed_base_url=llm.base_url, embed_model="hash-1536",
                           refusal_threshold=HASHED_REFUSAL_THRESHOLD)
    seen = []

    def while_embedding(stage, done, total):
        if stage == "embedding" and not seen:
            # The new snapshot is not complete: the old one still serves, with the old model.
            assert Store(wider).current().snapshot == removed.snapshot
            llm.requests.clear()
            seen.append(old.answer(SEED_QUESTION))
            seen.append(asked_with(llm, seen[0]))

    switched = rebuild(wider, progress=while_embedding)
    assert "400,000" in seen[0].answer and seen[1] == {"hash-768"}
    assert switched.updated == 1 and switched.embedded_chunks == switched.chunks
    store = Store(wider)
    assert store.current().snapshot == switched.snapshot != removed.snapshot
    assert store.current().fingerprint.startswith("openai:hash-1536")
    assert served_width(wider, switched.snapshot) == 1536
    # The removal was made in place; the new model's vectors went to a new collection.
    assert removed.in_place and not switched.in_place
    assert set(store.collections()) == {first.snapshot, switched.snapshot}

    llm.requests.clear()
    answer = RagService(wider, llm=None).answer(SEED_QUESTION)
    assert "400,000" in answer.answer and asked_with(llm, answer) == {"hash-1536"}


def test_an_empty_index_of_another_width_serves_and_grows(store_settings, seeds_copy, llm):
    llm.width = 768
    for path in seeds_copy.iterdir():
        path.unlink()
    settings = store_settings(embed_base_url=llm.base_url, embed_model="hash-768",
                          refusal_threshold=HASHED_REFUSAL_THRESHOLD)
    empty = rebuild(settings)
    assert empty.articles == empty.chunks == 0 and empty.snapshot
    assert snap.load_cached(settings.index_dir, empty.snapshot).vectors.shape == (0, 768)
    assert RagService(settings, llm=None).answer(SEED_QUESTION).refused

    shutil.copy(SEEDS / "000_91fdc298d10704eb.txt", seeds_copy)
    grown = rebuild(settings)
    assert grown.added == 1 and served_width(settings, grown.snapshot) == 768
    assert "400,000" in RagService(settings, llm=None).answer(SEED_QUESTION).answer
