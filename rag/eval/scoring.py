"""Scores of one evaluation run: article ranking, answers as a reader meets them (the gold answer
within the first 50 words, how long answers are, the marked span, whether every cited article is
relevant), the refusal trade-off, and latency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rag.eval import metrics


@dataclass
class Outcome:
    question: "Question"  # noqa: F821 (rag.eval.run.Question)
    ranking: list[str]
    answer_text: str
    refused: bool
    cited: list[tuple[str, str]]  # (article id, quote)
    retrieval_ms: float
    answer_ms: float
    span: str = ""  # the marked answer span, "" when none
    lead: str = ""  # the first 50 words of the top retrieved article (the lead-50 baseline)
    relevance: float | None = None  # the refusal signal: refused below `threshold`
    threshold: float | None = None
    mode: str = ""  # llm | extractive | extractive-fallback | refusal
    claims: int = 0  # sentences (or list lines) of the answer
    unsupported: int = 0  # of those, shown without a citation
    fallback_reason: str | None = None
    extra: dict = field(default_factory=dict)


def _mean(values) -> float:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else 0.0


def retrieval_scores(outcomes: list[Outcome], k: int = 10) -> dict:
    ranked = [o for o in outcomes if o.question.relevant]
    if not ranked:
        return {}
    out = {}
    for name, fn, cutoff in (("hit@1", metrics.hit_at, 1), ("hit@5", metrics.hit_at, 5),
                             (f"hit@{k}", metrics.hit_at, k), (f"mrr@{k}", metrics.mrr_at, k),
                             (f"ndcg@{k}", metrics.ndcg_at, k), (f"recall@{k}", metrics.recall_at, k)):
        out[name] = _mean(fn(o.ranking, o.question.relevant, cutoff) for o in ranked)
    out["questions"] = len(ranked)
    return out


def answer_scores(outcomes: list[Outcome]) -> dict:
    answers: dict = {}
    with_gold = [o for o in outcomes if o.question.answerable and o.question.answers]
    if with_gold:
        golds = lambda o: o.question.answers  # noqa: E731
        answers["accuracy"] = _mean(not o.refused and metrics.contains_answer(
            metrics.first_words(o.answer_text), golds(o)) for o in with_gold)
        answers["span_em"] = _mean(0.0 if o.refused else metrics.span_em(o.span, golds(o)) for o in with_gold)
        answers["span_f1"] = _mean(0.0 if o.refused else metrics.span_f1(o.span, golds(o)) for o in with_gold)
        answers["lead50_accuracy"] = _mean(metrics.contains_answer(o.lead, golds(o)) for o in with_gold)
        answers["questions_with_answers"] = len(with_gold)
    answered = [o for o in outcomes if not o.refused]
    if answered:
        answers["answer_words"] = round(
            sum(len(metrics.answer_words(o.answer_text)) for o in answered) / len(answered), 1)
    answers.update(llm_scores(answered))
    cited = [o for o in outcomes if o.question.answerable and o.question.relevant and not o.refused
             and o.cited]
    if cited:
        answers["citation_precision"] = _mean(
            all(article in o.question.relevant for article, _ in o.cited) for o in cited)
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answerable = [o for o in outcomes if o.question.answerable]
    if unanswerable:
        answers["refusal_rate"] = _mean(o.refused for o in unanswerable)
        answers["unanswerable_questions"] = len(unanswerable)
    if answerable:
        answers["false_refusal_rate"] = _mean(o.refused for o in answerable)
    return answers


def llm_scores(answered: list[Outcome]) -> dict:
    """With an LLM configured: how often its answer was shown, how often the extractive answer
    replaced it, and the share of its sentences shown as supported (cited)."""
    if not any(o.mode in ("llm", "extractive-fallback") for o in answered):
        return {}
    llm = [o for o in answered if o.mode == "llm"]
    out = {"llm_answers": _mean(o.mode == "llm" for o in answered),
           "fallback_rate": _mean(o.mode == "extractive-fallback" for o in answered),
           "fallback_reasons": dict(Counter(o.fallback_reason for o in answered
                                            if o.mode == "extractive-fallback").most_common())}
    if llm:
        claims = sum(o.claims for o in llm)
        out["supported_sentences"] = round(1 - sum(o.unsupported for o in llm) / claims, 4) if claims else 0.0
    return out


def refusal_trade_off(outcomes: list[Outcome]) -> dict:
    scored = [o for o in outcomes if o.relevance is not None]
    if not scored:
        return {}
    curve = metrics.refusal_curve([o.relevance for o in scored if o.question.answerable],
                                  [o.relevance for o in scored if not o.question.answerable])
    return {"shipped_threshold": scored[0].threshold, "curve": curve}


def score(outcomes: list[Outcome], k: int = 10) -> dict:
    latency = {"retrieval_ms": metrics.percentiles([o.retrieval_ms for o in outcomes]),
               "answer_ms": metrics.percentiles([o.answer_ms for o in outcomes])}
    return {"retrieval": retrieval_scores(outcomes, k), "answers": answer_scores(outcomes),
            "refusal_curve": refusal_trade_off(outcomes), "latency": latency}
