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


# --- answers as a reader meets them ------------------------------------------------------------

from rag.eval.run import Question  # noqa: E402
from rag.eval.scoring import Outcome, answer_scores, refusal_trade_off  # noqa: E402


def _outcome(answer="", refused=False, cited=(), span="", lead="", answerable=True,
             relevant=("a1",), answers=("400,000",), relevance=None):
    q = Question(id="q", question="?", answerable=answerable, relevant=set(relevant), answers=list(answers))
    return Outcome(question=q, ranking=[], answer_text=answer, refused=refused, cited=list(cited),
                   retrieval_ms=1, answer_ms=1, span=span, lead=lead, relevance=relevance,
                   threshold=0.5)


def test_accuracy_counts_the_gold_answer_only_within_the_first_50_words():
    padding = " ".join(["word"] * 50)
    early = _outcome(answer=f"Xiaomi now expects 400,000 deliveries [1]. {padding}")
    late = _outcome(answer=f"{padding} and 400,000 deliveries [1].")
    assert answer_scores([early])["accuracy"] == 1.0
    assert answer_scores([late])["accuracy"] == 0.0


def test_answer_words_leave_markers_out_and_refusals_are_not_answers():
    scores = answer_scores([_outcome(answer="Lei Jun [1] founded it [2]."),
                            _outcome(answer="The articles don't cover this question.", refused=True)])
    assert scores["answer_words"] == 4.0


def test_the_marked_span_is_scored_like_squad_and_a_refusal_scores_nothing():
    exact = _outcome(answer="over 400,000 units", span="400,000")
    partial = _outcome(answer="400,000 units", span="400,000 units", answers=("400,000",))
    refused = _outcome(answer="…", refused=True, span="400,000")
    assert metrics.span_em("The 400,000!", ["400,000"]) == 1.0
    assert metrics.span_f1("400,000 units", ["400,000"]) == pytest.approx(2 / 3)
    scores = answer_scores([exact, partial, refused])
    assert scores["span_em"] == pytest.approx(1 / 3, abs=1e-4)
    assert scores["span_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3, abs=1e-4)


def test_citation_precision_is_per_answer_every_cited_article_relevant():
    clean = _outcome(answer="x", cited=[("a1", "q1"), ("a1", "q2")])
    mixed = _outcome(answer="x", cited=[("a1", "q1"), ("other", "mentions 400,000")])
    assert answer_scores([clean, mixed])["citation_precision"] == 0.5


def test_lead_50_baseline_reads_the_top_article_lead():
    scores = answer_scores([_outcome(answer="x", lead="Xiaomi raised its target to 400,000 cars"),
                            _outcome(answer="x", lead="nothing here")])
    assert scores["lead50_accuracy"] == 0.5


def test_the_refusal_curve_trades_refusals_against_false_refusals():
    outcomes = ([_outcome(relevance=r) for r in (0.6, 0.7, 0.8, 0.9)]
                + [_outcome(relevance=r, answerable=False) for r in (0.1, 0.2, 0.65)])
    curve = refusal_trade_off(outcomes)["curve"]
    assert curve[0]["refusal_rate"] == 0.0 and curve[0]["false_refusal_rate"] == 0.0
    assert curve[-1]["refusal_rate"] == 1.0 and curve[-1]["false_refusal_rate"] == 1.0
    refusals = [p["refusal_rate"] for p in curve]
    assert refusals == sorted(refusals)
    assert any(p["refusal_rate"] == pytest.approx(2 / 3, abs=1e-3) and p["false_refusal_rate"] == 0 for p in curve)


def test_llm_answers_are_counted_with_their_fallbacks_and_supported_sentences():
    llm = _outcome(answer="a [1]. b.")
    llm.mode, llm.claims, llm.unsupported = "llm", 2, 1
    fallback = _outcome(answer="x [1].")
    fallback.mode, fallback.claims = "extractive-fallback", 1
    fallback.fallback_reason = "the LLM answer cited no passage it rests on"
    scores = answer_scores([llm, fallback])
    assert scores["llm_answers"] == 0.5 and scores["fallback_rate"] == 0.5
    assert scores["fallback_reasons"] == {"the LLM answer cited no passage it rests on": 1}
    assert scores["supported_sentences"] == 0.5
    plain = _outcome(answer="x [1].")
    plain.mode = "extractive"
    assert "fallback_rate" not in answer_scores([plain])
