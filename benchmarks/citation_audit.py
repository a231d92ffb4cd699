"""How much of the citation-precision miss is the labels': the answers to news dev that cite an
article outside `relevant_doc_ids`, each with a verdict read by hand and kept in
benchmarks/results/newsqa-dev-citation-audit.json (question id -> its question, gold answers
and, per cited article, its date and title and the verdict).

A verdict starting "answers" means the cited article reports the event asked about and states
the answer; the labels, drawn from search results at the time, leave such articles out. Anything
else ("other") is a real miss. Prints citation precision as `rag eval` scores it, the same with
the audited articles counted as relevant, and the answers no verdict covers yet (read those and
add them to the file). With `--replies` the answers are the LLM path's, from the model's replies
that `benchmarks.llm_answers --record` kept. Development only: never run it on the held-out set.

    .venv/bin/python -m benchmarks.citation_audit --index-dir .cache/eval/newsqa-corpus \
        --corpus ../shared/eval/newsqa/corpus.jsonl.gz --questions ../shared/eval/newsqa/dev.jsonl \
        [--replies benchmarks/results/llm-replies-1.5b-dev101-170.json --offset 100 --limit 70]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import RESULTS
from benchmarks.llm_answers import keep_replies, with_local_llm
from rag.config import Settings
from rag.eval.run import load_questions, run_questions
from rag.ingest.loading import load_articles
from rag.service import RagService

AUDIT = RESULTS / "newsqa-dev-citation-audit.json"


def titles(corpus: Path) -> dict[str, str]:
    return {a.id: f"{a.published or '?'} {a.title}" for a in load_articles(corpus).articles}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--replies", type=Path, help="answer with the LLM's recorded replies")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    if "holdout" in args.questions.name:
        parser.error("the held-out set is not for reading")
    audit = json.loads(AUDIT.read_text()) if AUDIT.exists() else {}
    named = titles(args.corpus)
    settings = Settings(index_dir=args.index_dir)
    if args.replies:
        keep_replies(args.replies, replay=True, record=False)
        # Never reached: every reply comes from the file (a missing one stops the run).
        settings = with_local_llm(settings, "http://127.0.0.1:9/v1")
    questions = load_questions(args.questions)[args.offset:]
    questions = questions[:args.limit] if args.limit else questions
    outcomes = run_questions(RagService(settings), questions, progress=False)
    cited = [o for o in outcomes if o.question.answerable and o.question.relevant and not o.refused
             and o.cited]
    labelled = audited = 0
    unjudged = []
    for o in cited:
        outside = sorted({a for a, _ in o.cited} - set(o.question.relevant))
        labelled += not outside
        judged = audit.get(o.question.id, {}).get("articles", {})
        verdicts = [judged.get(a, {}).get("verdict") for a in outside]
        audited += all(v and v.startswith("answers") for v in verdicts)
        unjudged += [(o.question.id, o.question.question, a, named.get(a, "?"))
                     for a, v in zip(outside, verdicts) if v is None]
    print(f"answers citing: {len(cited)}")
    print(f"citation precision (labels): {labelled / len(cited):.3f}")
    print(f"citation precision (labels + audited articles): {audited / len(cited):.3f}")
    print(f"cited articles outside the labels with no verdict yet: {len(unjudged)}")
    for qid, question, article, title in unjudged:
        print(f"  {qid} {article} [{title}] <- {question}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
