"""The answer model as a reranking step: a cross-encoder (MiniLM-L6, trained here by
train/train_reranker.py on 2017 news that is no evaluation data; its card is
rag/answer/models/reranker/README.md) reads the question with each of the best fused passages and
adds its verdict to their order.

Off by default (`RAG_RERANK_WEIGHT=0`): it ships for measurement until it gains on news dev out
of fold (docs/benchmarks.md). It runs on torch, in bf16 where the CPU has bf16 units."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).with_name("models") / "reranker"
MAX_TOKENS = 192  # as trained


class CrossEncoder:
    def __init__(self, path: Path = MODEL_DIR):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from rag.index.encoders import cpu_flags, has_bf16_units

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        # Stored in fp16; computed in bf16 with bf16 units, else in fp32 (fp16 is slow on CPU).
        dtype = torch.bfloat16 if has_bf16_units(cpu_flags()) else torch.float32
        self.model = AutoModelForSequenceClassification.from_pretrained(path, torch_dtype=dtype).eval()
        self.lock = threading.Lock()  # one forward pass at a time: the cores are few

    def scores(self, question: str, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        encoded = self.tokenizer([question] * len(texts), texts, truncation="only_second",
                                 max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        with self.lock, self.torch.inference_mode():
            return self.model(**encoded).logits.float().squeeze(-1).numpy()


@lru_cache(maxsize=1)
def load(path: str = str(MODEL_DIR)) -> CrossEncoder:
    return CrossEncoder(Path(path))


def rerank(question: str, passages: list, weight: float, top: int, model: CrossEncoder) -> list:
    """The passages with the first `top` reordered by (fused score + weight x the cross-encoder's
    score, min-max over those `top`) / (1 + weight), still 0..1; the rest follow as they were.
    Each reranked passage keeps the model's raw score as its `rerank` signal. The model reads the
    passage text as it was trained to (no title)."""
    head, tail = passages[:top], passages[top:]
    if weight <= 0 or len(head) < 2:
        return passages
    raw = model.scores(question, [p.text for p in head])
    low, high = float(raw.min()), float(raw.max())
    scaled = (raw - low) / (high - low) if high - low > 1e-9 else np.zeros_like(raw)
    for passage, value, share in zip(head, raw, scaled):
        passage.signals["rerank"] = float(value)
        passage.score = float((passage.score + weight * share) / (1 + weight))
    return sorted(head, key=lambda p: -p.score) + tail
