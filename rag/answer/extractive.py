"""The answer without an LLM: the passages' most relevant sentences, each with its [n] citation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rag.answer.citations import is_instruction
from rag.answer.retrieval import Retrieval
from rag.index.lexical import coverage, tokenize
from rag.ingest.sentences import split_sentences

MIN_WORDS = 5
_NAME_OR_NUMBER = re.compile(r"\b([A-Z][a-zA-Z]+|\d[\d,.]*)\b")
_SENTENCE_END = re.compile(r"[.!?…][\"”'’)\]]*$")
# Weights of sentence meaning, question-term coverage, the passage's own retrieval score, and the
# names and numbers a sentence adds to the question (answers are mostly names and numbers);
# tuned on news QA dev.
W_DENSE, W_LEXICAL, W_PASSAGE, W_NOVEL = 0.5, 0.35, 0.3, 0.1


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


def pick_sentences(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray], count: int,
                   focus: str | None = None) -> list[Pick]:
    """The best sentence, and up to `count - 1` more from the same article (an answer that
    stays with one source cites more precisely), in reading order.

    `embed` gives cheap sentence vectors (see LocalEmbedder.quick). `focus` is the question as
    the user typed it: for a follow-up its own words ("its profit") say what to pick, while the
    searched query also carries the subject from earlier turns."""
    pool = candidates(retrieval)
    if not pool:
        return []
    query_tokens = (tokenize(focus) if focus else []) or retrieval.query_tokens
    query_set = set(retrieval.query_tokens)
    known = {w.lower() for w in _NAME_OR_NUMBER.findall(f"{retrieval.query} {focus or ''}")}
    texts = [retrieval.query] + ([focus] if focus and focus != retrieval.query else [])
    vectors = embed(texts + [sentence for _, _, sentence in pool])
    question_vectors, sentence_vectors = vectors[:len(texts)], vectors[len(texts):]
    similarity = sentence_vectors @ question_vectors.T
    # A follow-up's own words (the second vector) say most about what is being asked now.
    dense = similarity[:, 0] if len(texts) == 1 else 0.3 * similarity[:, 0] + 0.7 * similarity[:, 1]
    scored = []
    for (index, position, sentence), cosine in zip(pool, dense):
        tokens = set(tokenize(sentence))
        if _is_echo(tokens, query_set):
            continue
        lexical = coverage(query_tokens, tokens, [1.0] * len(query_tokens))
        novel = len([w for w in _NAME_OR_NUMBER.findall(sentence) if w.lower() not in known])
        score = (W_DENSE * float(cosine) + W_LEXICAL * lexical
                 + W_PASSAGE * retrieval.passages[index].score + W_NOVEL * min(novel, 3) / 3)
        scored.append(Pick(sentence, index, position, score))
    if not scored:
        return []
    scored.sort(key=lambda p: -p.score)
    article = retrieval.passages[scored[0].passage].article_id
    picks = [p for p in scored if retrieval.passages[p.passage].article_id == article][:count]
    return sorted(picks, key=lambda p: (retrieval.passages[p.passage].n, p.position))


def compose(picks: list[Pick]) -> tuple[str, list[int]]:
    """Answer text with [n] markers, and the passage index behind each n (n = position + 1)."""
    order: list[int] = []
    parts = []
    for pick in picks:
        if pick.passage not in order:
            order.append(pick.passage)
        parts.append(f"{pick.sentence} [{order.index(pick.passage) + 1}]")
    return " ".join(parts), order
