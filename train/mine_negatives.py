"""Training pairs for the answer model from the synthetic questions (issue 27, item 1): each
question asked of the product's own retrieval over the 2017 corpus (train/synthetic_eval.py),
kept with where its article ranked, and with hard negatives: the passages our ranking puts
first for other articles, and the other sentences of its own passage.

A question whose article is not among the first three is kept but marked inconsistent: it is
often not standalone ("When was the camp initially closed?") or its answer is not what it asks.
Each row says its split (`check`: one article in five by a hash of its id; never train on it).

    .venv/bin/python -m train.synthetic_eval --split all      # the corpus and questions
    .venv/bin/rag eval --corpus .cache/train/corpus-2017.jsonl.gz \\
        --questions train/data/synthetic-all.jsonl --index-dir .cache/train/index-2017
    .venv/bin/python -m train.mine_negatives                  # -> train/data/mined.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from train.make_questions import DATA, OUT
from train.synthetic_eval import asked, in_check_split

INDEX = Path(".cache/train/index-2017")
CONSISTENT_RANK = 3
NEGATIVE_PASSAGES = 5


def main() -> int:
    from rag.config import Settings
    from rag.ingest.sentences import split_sentences
    from rag.service import RagService

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=INDEX)
    parser.add_argument("--out", type=Path, default=DATA / "mined.jsonl")
    args = parser.parse_args()
    service = RagService(Settings(index_dir=args.index_dir, _env_file=None), llm=None)
    indexed = service.refresh().articles
    rows, consistent, later = [], 0, 0
    for item in (json.loads(line) for line in open(OUT, encoding="utf-8")):
        if item["pairs"] and item["article_id"] not in indexed:
            later += 1  # generated after the corpus was written: run synthetic_eval again
            continue
        others = list(split_sentences(item["passage"]))
        for n, pair in enumerate(item["pairs"]):
            when = asked(item.get("published"))
            found = service.retrieve(pair["question"], as_of=when.replace("/", "-") if when else None).found
            ranked = [a.article_id for a in found.articles]
            rank = ranked.index(item["article_id"]) + 1 if item["article_id"] in ranked else None
            consistent += bool(rank and rank <= CONSISTENT_RANK)
            negatives = [{"article_id": p.article_id, "n": p.n, "text": p.text}
                         for p in found.passages if p.article_id != item["article_id"]]
            rows.append({
                "id": f"{item['article_id']}-{item['n']}-{n}",
                "split": "check" if in_check_split(item["article_id"]) else "train",
                "question": pair["question"], "answer": pair["answer"],
                "article_id": item["article_id"], "n": item["n"], "passage": item["passage"],
                "sentence": pair["sentence"], "rank": rank,
                "consistent": bool(rank and rank <= CONSISTENT_RANK),
                "negative_passages": negatives[:NEGATIVE_PASSAGES],
                "negative_sentences": [s for s in others if s.strip() != pair["sentence"].strip()],
            })
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} questions, {consistent} with their article in the first "
          f"{CONSISTENT_RANK} -> {args.out}; {later} passages not in the index yet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
