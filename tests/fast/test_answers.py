"""Extractive answers, refusals, filters and input checks through the service, over the fakes.
The slow twin is tests/test_answers.py (real MiniLM and Chroma)."""

import re

import pytest

from rag.config import TOP_K_MAX, TOP_K_MIN
from rag.errors import BadFilter, BadQuestion, ConfigError, IndexMismatch, IndexNotReady
from rag.models import Delta, Filters, Turn
from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, write_article
from tests.fakes import FakeEmbedder
from tests.fast.conftest import fast_service

SEED_SOURCE = "000_91fdc298d10704eb.txt"
BRIDGE_QUESTION = "How much did the new harbour bridge cost?"


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_seed_question_gets_a_cited_extractive_answer(service):
    answer = service.answer(SEED_QUESTION)
    assert not answer.refused and answer.mode == "extractive"
    assert "400,000" in answer.answer
    assert markers(answer.answer) == {c.n for c in answer.citations} and answer.citations
    for c in answer.citations:
        assert c.title.startswith("Xiaomi raises 2025")
        assert c.source == SEED_SOURCE and c.published == "2025-11-21T10:20:00"
        assert c.highlight and c.highlight in c.quote and c.highlight in answer.answer
        assert 0 <= c.score <= 1
    assert {"embed_ms", "retrieve_ms", "answer_ms", "total_ms"} <= set(answer.timings)


@pytest.mark.parametrize("question", [OFF_TOPIC_QUESTION, "How do I bake sourdough bread?",
                                      "What is the weather forecast for Paris tomorrow?"])
def test_uncovered_questions_are_refused_with_nearby_articles(service, question):
    answer = service.answer(question)
    assert answer.refused and answer.mode == "refusal"
    assert answer.citations == [] and "don't cover" in answer.answer
    assert [a.source for a in answer.nearby] == [SEED_SOURCE]


def test_follow_up_without_an_llm_carries_the_subject(service):
    history = [Turn(role="user", content="How many cars will Xiaomi deliver this year?"),
               Turn(role="assistant", content="Over 400,000 [1].")]
    answer = service.answer("What about its profit?", history=history)
    assert "Xiaomi" in answer.query and not answer.refused


def test_filters_on_the_seed_article(service):
    assert service.answer(SEED_QUESTION, filters=Filters(published_after="2025-12-01")).refused
    assert not service.answer(SEED_QUESTION, filters=Filters(published_before="2025-11-21")).refused
    assert not service.answer(SEED_QUESTION, filters=Filters(source=SEED_SOURCE)).refused
    other = service.answer(SEED_QUESTION, filters=Filters(source="elsewhere.txt"))
    assert other.refused and other.citations == []
    with pytest.raises(BadFilter):
        service.answer(SEED_QUESTION, filters=Filters(published_after="last tuesday-ish"))
    with pytest.raises(BadFilter):
        list(service.stream(SEED_QUESTION, filters=Filters(published_before="2025-13-45")))


@pytest.fixture
def bridges(corpus):
    """Two articles on the same question, told apart only by date and source folder."""
    write_article(corpus.settings.seeds_dir, "north.txt", "Northport opens harbour bridge",
                  "The new harbour bridge in Northport opened to traffic on Monday after three years "
                  "of work. The bridge cost 310 million euros and carries four lanes.",
                  date="2025-03-02 08:00")
    write_article(corpus.settings.seeds_dir / "south", "south.txt", "Southport opens harbour bridge",
                  "The new harbour bridge in Southport opened to traffic on Friday after two years "
                  "of work. The bridge cost 95 million euros and carries two lanes.",
                  date="2025-09-14 08:00")
    corpus.rebuild()
    return corpus


@pytest.mark.parametrize("filters, source, amount", [
    (Filters(published_after="2025-06-01"), "south/south.txt", "95 million"),
    (Filters(published_before="2025-06-01"), "north.txt", "310 million"),
    (Filters(published_after="2025-03-02", published_before="2025-03-02"), "north.txt", "310 million"),
    (Filters(source="south"), "south/south.txt", "95 million"),
    (Filters(source="north.txt"), "north.txt", "310 million"),
])
def test_filters_choose_between_articles(bridges, filters, source, amount):
    answer = bridges.answer(BRIDGE_QUESTION, filters=filters)
    assert not answer.refused and answer.citations
    assert {c.source for c in answer.citations} == {source}
    assert amount in answer.answer
    # Nothing from the other article was retrieved at all (an LLM would have been shown it).
    assert {p.source for p in bridges.retrieve(BRIDGE_QUESTION, filters=filters).found.passages} == {source}


def test_filters_that_exclude_everything_refuse(bridges):
    answer = bridges.answer(BRIDGE_QUESTION, filters=Filters(source="south", published_before="2025-06-01"))
    assert answer.refused and answer.citations == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 5000, None, 42])
def test_bad_questions(extractive, bad):
    with pytest.raises(BadQuestion):
        extractive.answer(bad)


def test_top_k_is_bounded(service):
    assert service.top_k(None) == service.settings.top_k
    assert service.top_k(-3) == TOP_K_MIN and service.top_k(10_000) == TOP_K_MAX
    assert service.top_k(3) == 3
    chunks = len(service.refresh())
    for requested, expected in [(1, 1), (2, 2), (50, min(TOP_K_MAX, chunks))]:
        assert len(service.retrieve(SEED_QUESTION, top_k=requested).found.passages) == expected
        assert len(service.answer(SEED_QUESTION, top_k=requested).citations) <= expected


@pytest.mark.parametrize("question", [SEED_QUESTION, OFF_TOPIC_QUESTION])
def test_streamed_events_give_the_same_text_as_answer(service, question):
    events = list(service.stream(question))
    kinds = [type(e).__name__ for e in events]
    assert kinds[-1] == "Final" and set(kinds[:-1]) == {"Delta"}
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert streamed == events[-1].answer.answer == service.answer(question).answer


def test_no_index_yet(corpus):
    with pytest.raises(IndexNotReady):
        corpus.answer(SEED_QUESTION)
    assert corpus.status()["ready"] is False


def test_another_worker_derives_the_snapshot_from_the_store(seed_index, tmp_path):
    """A process without the local cache folder reads the snapshot back from the store."""
    settings = seed_index.settings.model_copy(update={"index_dir": tmp_path / "elsewhere"})
    worker = fast_service(settings, store=seed_index.store, embedder=seed_index.embedder)
    answer = worker.answer(SEED_QUESTION)
    assert answer.answer == seed_index.service().answer(SEED_QUESTION).answer
    assert worker.status()["chunks"] == seed_index.summary.chunks
    assert (settings.index_dir / "snapshots" / seed_index.summary.snapshot / "info.json").exists()


def test_a_server_whose_embedder_differs_from_the_index_says_so(seed_index):
    # Workers restarted on a new embedding model before the rebuild to it has finished.
    other = FakeEmbedder()
    other.name = "another-model"
    service = fast_service(seed_index.settings, store=seed_index.store, embedder=other)
    with pytest.raises(IndexMismatch, match="built with the embedder 'fake-hash'.*'another-model'"):
        service.answer(SEED_QUESTION)


def relevance_of(service, question: str) -> float:
    return service.retrieve(question).decision.relevance


def test_the_refusal_decision_does_not_depend_on_the_stage_list(seed_index):
    # Without the dense stage the policy computes the same cosine itself, so the relevance of a
    # question, and with it the refusal, does not change with RAG_RANKING_STAGES.
    full = seed_index.service()
    lexical_only = seed_index.service(ranking_stages=["bm25", "article_bm25"])
    assert [type(s).__name__ for s in lexical_only.retriever.stages] == ["ChunkBm25Stage", "ArticleBm25Stage"]
    assert relevance_of(lexical_only, SEED_QUESTION) == pytest.approx(relevance_of(full, SEED_QUESTION), abs=0.02)
    assert not lexical_only.answer(SEED_QUESTION).refused
    assert lexical_only.answer(OFF_TOPIC_QUESTION).refused


def test_an_unknown_ranking_stage_is_a_clear_configuration_error(seed_index):
    with pytest.raises(ConfigError, match="RAG_RANKING_STAGES: unknown stage.*freshness"):
        seed_index.service(ranking_stages=["dense", "freshness"])


def test_sentence_vectors_are_computed_once_per_question():
    """The gate and the extractive answer score the same sentences: with an embeddings server
    that is one request for them, not two."""
    import numpy as np

    from rag.service import _remembered

    asked = []

    def embed(texts):
        asked.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    quick = _remembered(embed)
    first = quick(["question", "a sentence", "another sentence"])
    again = quick(["question", "follow-up", "a sentence", "another sentence"])
    assert asked == [["question", "a sentence", "another sentence"], ["follow-up"]]
    assert np.array_equal(again[[0, 2, 3]], first) and again.shape == (4, 2)
