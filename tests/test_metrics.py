"""Metric functions on small hand-made rankings with known values."""

import math

import pytest

from rag.eval import metrics
RANKED = ["d3", "d1", "d7", "d2", "d9"]


def test_hits():
    assert metrics.hit_at(RANKED, {"d1"}, 1) == 0.0
    assert metrics.hit_at(RANKED, {"d1"}, 2) == 1.0
    assert metrics.hit_at(RANKED, {"d8"}, 5) == 0.0


def test_mrr():
    assert metrics.mrr_at(RANKED, {"d7"}) == pytest.approx(1 / 3)
    assert metrics.mrr_at(RANKED, {"d7", "d1"}) == pytest.approx(1 / 2)
    assert metrics.mrr_at(RANKED, {"d2"}, k=3) == 0.0


def test_ndcg():
    assert metrics.ndcg_at(RANKED, {"d3"}) == 1.0
    assert metrics.ndcg_at(RANKED, {"d1"}) == pytest.approx(1 / math.log2(3))
    # Two relevant at ranks 2 and 4; ideal puts them at 1 and 2.
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at(RANKED, {"d1", "d2"}) == pytest.approx(expected)
    assert metrics.ndcg_at(RANKED, {"d8"}) == 0.0


def test_recall_and_dedupe():
    assert metrics.recall_at(RANKED, {"d1", "d8"}) == 0.5
    assert metrics.dedupe_ranking(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


@pytest.mark.parametrize("answer, gold, expected", [
    ("Xiaomi targets over 400,000 units.", ["400000"], True),
    ("It delivered three hundred cars", ["300"], False),
    ("There were three winners.", ["3"], True),
    ("The answer is MUSTARD!", ["mustard"], True),
    ("Mustardseed oil", ["mustard"], False),
    ("The Boston Celtics won", ["Celtics"], True),
])
def test_contains_answer(answer, gold, expected):
    assert metrics.contains_answer(answer, gold) is expected


def test_percentiles():
    assert metrics.percentiles([10, 20, 30, 40, 100]) == {"p50": 30.0, "p95": 88.0}
