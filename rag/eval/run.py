"""`rag eval`: build (or update) an index of a corpus with the product's own pipeline, run every
question through the product's own answer path, and score retrieval, answers and latency."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.eval import metrics
from rag.config import Settings


@dataclass
class Question:
    id: str
    question: str
    answerable: bool
    relevant: set[str]
    answers: list[str] = field(default_factory=list)
    as_of: str | None = None  # when it was asked: "YYYY-MM-DD" (the end of that day) or a time


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            out.append(Question(
                id=str(row["id"]), question=row["question"], answerable=bool(row.get("answerable", True)),
                relevant={str(d) for d in row.get("relevant_doc_ids") or []},
                answers=[str(a) for a in row.get("answers") or []],
                as_of=_as_of(row.get("as_of") or row.get("question_date")),
            ))
            if limit and len(out) >= limit:
                break
    return out


def _as_of(value: object) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    # "2022/08/12" in the news QA files: a date alone, which as_of reads as the end of that day.
    return text.replace("/", "-") if re.fullmatch(r"\d{4}[-/]\d{2}[-/]\d{2}", text) else text


@dataclass
class Outcome:
    question: Question
    ranking: list[str]
    answer_text: str
    refused: bool
    cited: list[tuple[str, str]]  # (article id, quote)
    retrieval_ms: float
    answer_ms: float


def run_questions(service, questions: list[Question], progress: bool = True,
                  use_dates: bool = True) -> list[Outcome]:
    """`use_dates`: ask each question at its own date (the file's `question_date` or `as_of`);
    False asks every question now, as the product did before it knew about time."""
    from tqdm import tqdm

    outcomes = []
    import sys

    # On a terminal the bar redraws in place; in a log, a line every 10 s is enough.
    interval = 0.1 if sys.stderr.isatty() else 10.0
    for q in tqdm(questions, desc="questions", unit="q", disable=not progress, dynamic_ncols=True,
                  mininterval=interval):
        final, retrieval = None, None
        for event in service.stream(q.question, as_of=q.as_of if use_dates else None):
            if event["event"] == "answer":
                final, retrieval = event["answer"], event.get("retrieval")
        ranking = [hit.article_id for hit in retrieval.articles] if retrieval else []
        outcomes.append(Outcome(
            question=q, ranking=metrics.dedupe_ranking(ranking), answer_text=final.answer,
            refused=final.refused, cited=[(c.article_id, c.quote) for c in final.citations],
            retrieval_ms=final.timings.get("embed_ms", 0) + final.timings.get("retrieve_ms", 0),
            answer_ms=final.timings.get("total_ms", 0),
        ))
    return outcomes


def score(outcomes: list[Outcome], k: int = 10) -> dict:
    ranked = [o for o in outcomes if o.question.relevant]
    retrieval = {}
    if ranked:
        for name, fn, cutoff in (("hit@1", metrics.hit_at, 1), ("hit@5", metrics.hit_at, 5),
                                 (f"hit@{k}", metrics.hit_at, k), (f"mrr@{k}", metrics.mrr_at, k),
                                 (f"ndcg@{k}", metrics.ndcg_at, k), (f"recall@{k}", metrics.recall_at, k)):
            retrieval[name] = round(sum(fn(o.ranking, o.question.relevant, cutoff) for o in ranked) / len(ranked), 4)
        retrieval["questions"] = len(ranked)

    answers: dict = {}
    with_gold = [o for o in outcomes if o.question.answerable and o.question.answers]
    if with_gold:
        answers["accuracy"] = _mean(metrics.contains_answer(o.answer_text, o.question.answers) for o in with_gold)
        answers["questions_with_answers"] = len(with_gold)
    citations = [(o, article, quote) for o in outcomes if o.question.answerable and not o.refused
                 for article, quote in o.cited]
    if citations:
        answers["citation_precision"] = _mean(
            article in o.question.relevant or (o.question.answers and metrics.contains_answer(quote, o.question.answers))
            for o, article, quote in citations)
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answerable = [o for o in outcomes if o.question.answerable]
    if unanswerable:
        answers["refusal_rate"] = _mean(o.refused for o in unanswerable)
        answers["unanswerable_questions"] = len(unanswerable)
    if answerable:
        answers["false_refusal_rate"] = _mean(o.refused for o in answerable)

    latency = {"retrieval_ms": metrics.percentiles([o.retrieval_ms for o in outcomes]),
               "answer_ms": metrics.percentiles([o.answer_ms for o in outcomes])}
    return {"retrieval": retrieval, "answers": answers, "latency": latency}


def _mean(values) -> float:
    values = [float(bool(v)) for v in values]
    return round(sum(values) / len(values), 4) if values else 0.0


def settings_used(settings: Settings) -> dict:
    keep = ("chunk_size", "chunk_overlap", "top_k", "ranking_stages", "candidates", "dense_weight",
            "article_weight", "recency_weight", "recency_half_life_days", "recency_latest_boost",
            "question_dates", "fold_copies", "min_relevance", "relevance_per_decade", "answer_sentences",
            "embed_model", "embed_precision", "llm_model")
    return {k: getattr(settings, k) for k in keep} | {"store": "server" if settings.chroma_host else "embedded"}


def evaluate(settings: Settings, corpus: Path, questions_path: Path, k: int = 10,
             limit: int | None = None, progress: bool = True, use_dates: bool = True) -> dict:
    from rag.service import RagService

    started = time.perf_counter()
    service = RagService(settings)
    build = service.rebuild(corpus, show_bar=progress)
    questions = load_questions(questions_path, limit)
    outcomes = run_questions(service, questions, progress, use_dates)
    report = score(outcomes, k)
    report.update({
        "corpus": str(corpus), "questions_file": str(questions_path), "questions": len(questions),
        "k": k, "asked_at": "each question's date" if use_dates and any(q.as_of for q in questions)
        else "now", "index": {"articles": build.articles, "chunks": build.chunks, "build": build.line()},
        "settings": settings_used(settings), "seconds": round(time.perf_counter() - started, 1),
    })
    return report


def run_eval_cli(args, settings: Settings) -> int:
    from rag.eval.report import write_report

    corpus, questions = Path(args.corpus), Path(args.questions)
    for path in (corpus, questions):
        if not path.exists():
            print(f"rag eval: {path} does not exist")
            return 1
    if not args.index_dir:
        name = corpus.name.split(".")[0] if corpus.is_file() else corpus.name
        settings = settings.model_copy(update={"index_dir": Path(".cache/eval") / f"{corpus.parent.name}-{name}"})
    report = evaluate(settings, corpus, questions, args.k, args.limit)
    paths = write_report(report, Path(args.out))
    print(paths["markdown"].read_text())
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0
