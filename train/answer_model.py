"""The answer model trained by train/train_answer_model.py, loaded for measurement
(benchmarks/answer_model_cv.py): a cross-encoder that reads the question with one candidate
sentence and its article's title, and scores whether that sentence answers it. Not a product
stage: on news dev it loses to the hand-set sentence signals at every weight (docs/benchmarks.md,
"The answer model, second try"), so the product does not load it. Scored by the CrossEncoder of
train/cross_encoder.py (bf16 where the CPU has bf16 units, else fp32), in batches of similar
length.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from train.cross_encoder import CrossEncoder

MODEL_DIR = Path(__file__).resolve().parent.parent / ".cache" / "train" / "answer-model"
MAX_TOKENS = 128  # a question and a sentence with its title; longer sentences are cut
BATCH = 32


def pair_text(title: str, sentence: str) -> str:
    """The candidate as the model reads it: the title says what a sentence's "it" is about."""
    return f"{title.strip()} | {sentence.strip()}" if title and title.strip() else sentence.strip()


class AnswerModel(CrossEncoder):
    def __init__(self, path: Path = MODEL_DIR):
        super().__init__(path, MAX_TOKENS)

    def scores(self, question: str, candidates: list[tuple[str, str]]) -> np.ndarray:
        """Raw scores (logits) of (title, sentence) candidates for `question`: above 0, the model
        holds that the sentence answers it."""
        texts = [pair_text(title, sentence) for title, sentence in candidates]
        # Similar lengths batched together: padding is most of the work otherwise.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros(len(texts), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            part = order[start:start + BATCH]
            out[part] = super().scores(question, [texts[i] for i in part])
        return out


@lru_cache(maxsize=2)
def load(path: str = str(MODEL_DIR)) -> AnswerModel:
    return AnswerModel(Path(path))


def for_question(model: AnswerModel, question: str) -> Callable[[list[tuple[str, str]]], np.ndarray]:
    """The model's scores for one question, each candidate computed once (a benchmark scores
    the same sentences at every point of its grid)."""
    known: dict[tuple[str, str], float] = {}

    def scores(candidates: list[tuple[str, str]]) -> np.ndarray:
        missing = [c for c in dict.fromkeys(candidates) if c not in known]
        if missing:
            known.update(zip(missing, model.scores(question, missing).tolist()))
        return np.array([known[c] for c in candidates], dtype=np.float32)
    return scores
