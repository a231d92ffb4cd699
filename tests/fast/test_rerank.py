"""The answer model's reranking step over a scripted model: what it changes in the order and
what it leaves alone. The real model: tests/test_rerank.py."""

from __future__ import annotations

import numpy as np

from rag.answer.rerank import rerank
from rag.answer.retrieval import Passage


class ScriptedModel:
    """Scores a passage by whether it holds a word: the model's verdict, without the model."""

    def __init__(self, word: str):
        self.word, self.calls = word, []

    def scores(self, question, texts):
        self.calls.append(list(texts))
        return np.array([5.0 if self.word in text else -5.0 for text in texts], dtype=np.float32)


def passages(texts: list[str]) -> list[Passage]:
    return [Passage(row=i, id=f"r{i}", article_id=f"a{i}", n=0, title=f"T{i}", published=None,
                    source=f"a{i}.txt", url=None, text=text, score=1.0 - 0.1 * i)
            for i, text in enumerate(texts)]


def test_the_model_lifts_the_passage_it_prefers_within_the_head_only():
    found = passages(["tram fares", "tram depot", "the answer: tram costs 420 million", "x", "answer"])
    model = ScriptedModel("answer")
    out = rerank("How much will the tram cost?", found, weight=2.0, top=3, model=model)
    assert [p.id for p in out] == ["r2", "r0", "r1", "r3", "r4"]  # r4 is past the head: not read
    assert model.calls == [["tram fares", "tram depot", "the answer: tram costs 420 million"]]
    assert all(0.0 <= p.score <= 1.0 for p in out[:3])
    assert out[0].signals["rerank"] == 5.0 and "rerank" not in out[3].signals


def test_weight_zero_or_a_single_passage_leaves_the_order_and_skips_the_model():
    model = ScriptedModel("b")
    found = passages(["a", "b"])
    assert rerank("q", found, weight=0.0, top=20, model=model) == found
    assert rerank("q", found[:1], weight=1.0, top=20, model=model) == found[:1]
    assert model.calls == []
