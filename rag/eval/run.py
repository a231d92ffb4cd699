"""`rag eval`: build (or update) an index of a corpus with the product's own pipeline, run every
question through the product's own answer path, and score retrieval, answers and latency."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Settings
from rag.eval import metrics
from rag.errors import IndexNotReady
from rag.eval.scoring import Outcome, score
from rag.ingest.sentences import claim_spans
from rag.models import Final


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


def _lead(snapshot, article_id: str | None) -> str:
    """The first 50 words of an article's text: what a reader gets from its lead alone."""
    if snapshot is None or article_id is None or article_id not in snapshot.first_row:
        return ""
    words: list[str] = []
    row = snapshot.first_row[article_id]
    while row < len(snapshot) and snapshot.records[row]["article_id"] == article_id and len(words) < 50:
        words += snapshot.records[row]["text"].split()
        row += 1
    return " ".join(words[:50])


def _answer(service, question: str, as_of: str | None):
    """The product's answer path, in its two public steps, so that the whole ranking and the
    gate's score are read here without riding on the product's events."""
    started = time.perf_counter()
    retrieved = service.retrieve(question, as_of=as_of)
    final = None
    for event in service.answer_events(retrieved, started):
        if isinstance(event, Final):
            final = event.answer
    return final, retrieved


def run_questions(service, questions: list[Question], progress: bool = True,
                  use_dates: bool = True) -> list[Outcome]:
    """`use_dates`: ask each question at its own date (the file's `question_date` or `as_of`);
    False asks every question now, as the product did before it knew about time."""
    import sys

    from tqdm import tqdm

    outcomes = []
    # On a terminal the bar redraws in place; in a log, a line every 10 s is enough.
    interval = 0.1 if sys.stderr.isatty() else 10.0
    for q in tqdm(questions, desc="questions", unit="q", disable=not progress, dynamic_ncols=True,
                  mininterval=interval):
        final, retrieved = _answer(service, q.question, q.as_of if use_dates else None)
        retrieval, decision = retrieved.found, retrieved.decision
        ranking = [hit.article_id for hit in retrieval.articles]
        span = final.answer_span
        outcomes.append(Outcome(
            question=q, ranking=metrics.dedupe_ranking(ranking), answer_text=final.answer,
            refused=final.refused, cited=[(c.article_id, c.quote) for c in final.citations],
            retrieval_ms=final.timings.get("embed_ms", 0) + final.timings.get("retrieve_ms", 0),
            answer_ms=final.timings.get("total_ms", 0),
            span=final.answer[span.start:span.end] if span else "",
            lead=_lead(service.refresh(), ranking[0] if ranking else None),
            relevance=decision.relevance, threshold=decision.threshold,
            mode=final.mode, claims=len(claim_spans(final.answer)) if not final.refused else 0,
            unsupported=len(final.unsupported), fallback_reason=final.fallback_reason,
        ))
    return outcomes


def settings_used(settings: Settings) -> dict:
    keep = ("chunk_size", "chunk_overlap", "top_k", "ranking_stages", "candidates", "dense_weight",
            "article_weight", "recency_weight", "recency_half_life_days", "recency_latest_boost",
            "question_dates", "fold_copies", "refusal_threshold", "answer_sentences",
            "embed_model", "embed_precision", "llm_model", "llm_temperature", "llm_timeout_s")
    return {k: getattr(settings, k) for k in keep} | {"store": "server" if settings.chroma_host else "embedded"}


def early_questions(questions_path: Path) -> Path | None:
    """`dev.jsonl`'s counterpart `dev_early.jsonl` (each answerable question asked before its
    story existed, see the eval README), when it sits beside it: run with every evaluation, so
    that a gain in accuracy bought with confident answers to questions nobody can answer yet
    shows in the same report."""
    if questions_path.stem.endswith("_early"):
        return None
    early = questions_path.with_name(f"{questions_path.stem}_early{questions_path.suffix}")
    return early if early.exists() else None


def evaluate(settings: Settings, corpus: Path | None, questions_path: Path, k: int = 10,
             limit: int | None = None, progress: bool = True, use_dates: bool = True) -> dict:
    """With `corpus`, index it first (incrementally); without, ask the index as it is."""
    from rag.service import RagService

    started = time.perf_counter()
    service = RagService(settings)
    if corpus is not None:
        build = service.rebuild(corpus, show_bar=progress)
        index = {"articles": build.articles, "chunks": build.chunks, "build": build.line()}
    else:
        if service.refresh(force=True) is None:
            raise IndexNotReady(f"no index in {settings.index_dir}; build it with `rag index`")
        status = service.status()
        index = {"articles": status["articles"], "chunks": status["chunks"], "build": status["last_build"]}
    questions = load_questions(questions_path, limit)
    outcomes = run_questions(service, questions, progress, use_dates)
    report = score(outcomes, k)
    early = early_questions(questions_path)
    if early is not None:
        asked_early = run_questions(service, load_questions(early, limit), progress, use_dates)
        report["early"] = {"questions_file": str(early), "questions": len(asked_early),
                           "refusal_rate": round(sum(o.refused for o in asked_early)
                                                 / max(len(asked_early), 1), 4)}
    report.update({
        "corpus": str(corpus) if corpus else f"the index in {settings.index_dir}", "questions_file": str(questions_path), "questions": len(questions),
        "k": k, "asked_at": "each question's date" if use_dates and any(q.as_of for q in questions)
        else "now", "index": index,
        "settings": settings_used(settings), "seconds": round(time.perf_counter() - started, 1),
    })
    return report


def run_eval_cli(args, settings: Settings) -> int:
    from rag.eval.report import write_report

    corpus = Path(args.corpus) if args.corpus else None
    questions = Path(args.questions)
    for path in (corpus, questions):
        if path is not None and not path.exists():
            print(f"rag eval: {path} does not exist")
            return 1
    if corpus is not None and not args.index_dir:
        name = corpus.name.split(".")[0] if corpus.is_file() else corpus.name
        settings = settings.model_copy(update={"index_dir": Path(".cache/eval") / f"{corpus.parent.name}-{name}"})
    report = evaluate(settings, corpus, questions, args.k, args.limit)
    paths = write_report(report, Path(args.out))
    print(paths["markdown"].read_text())
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0
