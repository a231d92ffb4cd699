"""The answer without an LLM: the passages' most relevant sentences, each with its [n] citation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rag.lexical import tokenize
from rag.retrieval import Retrieval, coverage
from rag.safety import is_instruction
from rag.sentences import split_sentences

MIN_WORDS = 5
_SENTENCE_END = re.compile(r"[.!?…][\"”'’)\]]*$")
# Weights of sentence meaning, question-term coverage and the passage's own retrieval score.
W_DENSE, W_LEXICAL, W_PASSAGE = 0.5, 0.35, 0.15


@dataclass
class Pick:
    sentence: str
    passage: int  # index into retrieval.passages
    position: int
    score: float


def _is_echo(sentence_tokens: set[str], query_tokens: set[str]) -> bool:
    """A sentence that only restates the question answers nothing."""
    new = sentence_tokens - query_tokens
    return len(new) < 2


def candidates(retrieval: Retrieval) -> list[tuple[int, int, str]]:
    seen: set[str] = set()
    out = []
    for index, passage in enumerate(retrieval.passages):
        for position, sentence in enumerate(split_sentences(passage.text)):
            key = " ".join(sentence.lower().split())
            # Headings (no sentence ending) name a topic but answer nothing.
            if key in seen or len(sentence.split()) < MIN_WORDS or not _SENTENCE_END.search(sentence):
                continue
            if is_instruction(sentence):  # article text never gives orders through an answer
                continue
            seen.add(key)
            out.append((index, position, sentence))
    return out


def pick_sentences(retrieval: Retrieval, query_vector: np.ndarray,
                   embed: Callable[[list[str]], np.ndarray], idf_of: Callable[[list[str]], list[float]],
                   count: int, focus: str | None = None,
                   focus_vector: np.ndarray | None = None) -> list[Pick]:
    """The best `count` sentences. `focus` is the question as the user typed it: for a follow-up,
    its own words ("its profit") say what to pick, while the searched query also carries the
    subject from earlier turns."""
    pool = candidates(retrieval)
    if not pool:
        return []
    query_tokens = tokenize(focus) if focus else retrieval.query_tokens
    query_tokens = query_tokens or retrieval.query_tokens
    query_set = set(retrieval.query_tokens)
    idf = idf_of(query_tokens)
    vectors = embed([sentence for _, _, sentence in pool])
    dense = vectors @ query_vector.astype(np.float32)
    if focus_vector is not None:
        dense = 0.5 * (dense + vectors @ focus_vector.astype(np.float32))
    picks = []
    for (index, position, sentence), cosine in zip(pool, dense):
        tokens = set(tokenize(sentence))
        if _is_echo(tokens, query_set):
            continue
        lexical = coverage(query_tokens, tokens, idf)
        prior = retrieval.passages[index].score
        score = W_DENSE * float(cosine) + W_LEXICAL * lexical + W_PASSAGE * prior
        picks.append(Pick(sentence, index, position, score))
    picks.sort(key=lambda p: -p.score)
    return picks[:count]


def compose(picks: list[Pick]) -> tuple[str, list[int]]:
    """Answer text with [n] markers, and the passage index behind each n (n = position + 1)."""
    order: list[int] = []
    parts = []
    for pick in picks:
        if pick.passage not in order:
            order.append(pick.passage)
        parts.append(f"{pick.sentence} [{order.index(pick.passage) + 1}]")
    return " ".join(parts), order
