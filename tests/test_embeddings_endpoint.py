"""Embeddings from an OpenAI-compatible /v1/embeddings server instead of the bundled model."""

from rag.index.embedding import OpenAIEmbedder, get_embedder
from rag.index.build import fingerprint, rebuild
from rag.service import RagService
from rag.index.store import Store
from tests.conftest import SEED_QUESTION, make_settings


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
