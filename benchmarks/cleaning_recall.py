"""Does cleaning keep what answers questions? For every answerable question, each gold answer that
appears in a relevant article's raw text must still appear after boilerplate cleaning.

    .venv/bin/python -m benchmarks.cleaning_recall --corpus ../shared/eval/newsqa/corpus.jsonl.gz \
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.common import save
from rag.eval.metrics import contains_answer
from rag.eval.run import load_questions
from rag.ingest.cleaning import clean_articles
from rag.ingest.loading import load_articles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--name", default="cleaning-recall")
    args = parser.parse_args()
    raw = {a.id: a for a in load_articles(Path(args.corpus)).articles}
    cleaned = {a.id: a for a in clean_articles(list(raw.values()))[0]}
    in_raw, kept, lost = 0, 0, []
    questions_in_raw, questions_kept = 0, 0
    for q in load_questions(Path(args.questions)):
        before = (in_raw, kept)
        for doc in q.relevant:
            if doc not in raw or not q.answers or not contains_answer(raw[doc].text, q.answers):
                continue
            in_raw += 1
            if doc in cleaned and contains_answer(cleaned[doc].text, q.answers):
                kept += 1
            else:
                lost.append({"question": q.id, "article": doc, "answers": q.answers})
        questions_in_raw += in_raw > before[0]
        questions_kept += kept > before[1]
    print(f"(question, relevant article) pairs whose raw text holds a gold answer: {in_raw}; "
          f"still there after cleaning: {kept}; questions: {questions_in_raw} and {questions_kept}")
    for item in lost:
        print("lost:", item)
    save(args.name, {"corpus": args.corpus, "questions": args.questions, "in_raw": in_raw,
                     "kept_after_cleaning": kept, "questions_in_raw": questions_in_raw,
                     "questions_kept": questions_kept, "lost": lost})


if __name__ == "__main__":
    main()
