"""Which hand-set answer rules earn their place (issue 27, item 4): each sentence weight of
rag/answer/weights.py set to 0 in turn, and the best article's extra passages left out, measured
on news dev out of fold. Each question is retrieved once at its own date, as the product does
(so the gate's decisions are the shipped ones); the answer is composed again per variant. For
each fold, the variant or the shipped weights, whichever is better on the other four folds (by
accuracy, then citation precision), answers the held fold: a rule whose removal is chosen there
does not gain out of fold. The shipped weights were tuned on all of news dev, so this favours
keeping rules.

    .venv/bin/python -m benchmarks.rule_ablation --index-dir .cache/eval/newsqa-corpus \\
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from benchmarks.answer_model_cv import fold_of, outcome
from benchmarks.common import save
from rag.answer import extractive, weights
from rag.config import Settings
from rag.eval.run import _lead, load_questions
from rag.eval.scoring import answer_scores
from rag.service import RagService

FOLDS = 5
ZEROED = ("meaning", "words", "passage", "answer_type", "lead", "article_rank", "kind_fit")


def variants() -> dict[str, tuple[weights.AnswerWeights, int]]:
    """name -> (answer weights, extra passages of the best article)."""
    shipped = weights.WEIGHTS
    out = {"shipped": (shipped, extractive.TOP_ARTICLE_EXTRA)}
    for name in ZEROED:
        sentence = dataclasses.replace(shipped.sentence, **{name: 0.0})
        out[f"no {name}"] = (dataclasses.replace(shipped, sentence=sentence), extractive.TOP_ARTICLE_EXTRA)
    out["no extra passages"] = (shipped, 0)
    return out


def figures(outcomes) -> dict:
    scores = answer_scores(outcomes)
    return {k: scores.get(k) for k in ("accuracy", "lead50_accuracy", "span_f1", "citation_precision")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never tune on the held-out set"
    service = RagService(Settings(index_dir=Path(args.index_dir), _env_file=None), llm=None)
    snapshot = service.refresh()
    questions = load_questions(Path(args.questions))
    retrieved = [service.retrieve(q.question, as_of=q.as_of) for q in questions]
    leads = [_lead(snapshot, r.found.articles[0].article_id if r.found.articles else None)
             for r in retrieved]
    shipped, extra = weights.WEIGHTS, extractive.TOP_ARTICLE_EXTRA
    per_variant = {}
    try:
        for name, (answer_weights, extra_passages) in variants().items():
            weights.WEIGHTS, extractive.TOP_ARTICLE_EXTRA = answer_weights, extra_passages
            per_variant[name] = [outcome(service, q, r, lead)
                                 for q, r, lead in zip(questions, retrieved, leads)]
    finally:
        weights.WEIGHTS, extractive.TOP_ARTICLE_EXTRA = shipped, extra
    folds = [fold_of(q.id) for q in questions]

    def key(outcomes, fold_out: int) -> tuple:
        s = figures([o for o, f in zip(outcomes, folds) if f != fold_out])
        return (s["accuracy"] or 0.0, s["citation_precision"] or 0.0)

    result = {"questions": len(questions), "in_sample": {n: figures(o) for n, o in per_variant.items()},
              "out_of_fold": {}}
    for name, outcomes in per_variant.items():
        if name == "shipped":
            continue
        pair = {"shipped": per_variant["shipped"], name: outcomes}
        chosen = [max(pair, key=lambda n: (key(pair[n], f), n == "shipped")) for f in range(FOLDS)]
        held = [pair[chosen[f]][i] for i, f in enumerate(folds)]
        result["out_of_fold"][name] = {"removal_chosen_in_folds": sum(c != "shipped" for c in chosen),
                                       **figures(held)}
    save("rule-ablation-newsqa-dev", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
