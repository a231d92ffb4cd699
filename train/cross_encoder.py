"""The cross-encoder trained by train/train_reranker.py, loaded for measurement
(benchmarks/rerank_cv.py): it reads a question with each passage and scores how well the passage
answers it. Not a product stage yet: the first model (headline->lead pairs) lost on news dev out
of fold (docs/benchmarks.md), so the product does not load it. Torch, bf16 where the CPU has bf16
units."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent.parent / ".cache" / "train" / "reranker"
MAX_TOKENS = 192  # as trained


class CrossEncoder:
    def __init__(self, path: Path = MODEL_DIR, max_tokens: int = MAX_TOKENS):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from rag.index.encoders import cpu_flags, has_bf16_units

        self.torch = torch
        self.max_tokens = max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        # Stored in fp16; computed in bf16 with bf16 units, else in fp32 (fp16 is slow on CPU).
        dtype = torch.bfloat16 if has_bf16_units(cpu_flags()) else torch.float32
        self.model = AutoModelForSequenceClassification.from_pretrained(path, torch_dtype=dtype).eval()
        self.lock = threading.Lock()  # one forward pass at a time: the cores are few

    def scores(self, question: str, texts: list[str]) -> np.ndarray:
        """The model's logit for each text read with `question`, in one forward pass."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        encoded = self.tokenizer([question] * len(texts), texts, truncation="only_second",
                                 max_length=self.max_tokens, padding=True, return_tensors="pt")
        with self.lock, self.torch.inference_mode():
            return self.model(**encoded).logits.float().squeeze(-1).numpy()


@lru_cache(maxsize=1)
def load(path: str = str(MODEL_DIR)) -> CrossEncoder:
    return CrossEncoder(Path(path))
