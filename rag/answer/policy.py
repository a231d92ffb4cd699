"""The answer policy, in one place: given what was found and the refusal gate's decision
(rag/answer/refusal.py), whether the question is refused, answered by the LLM or answered from
the passages, and what follows when an answer fails: the LLM says the passages do not cover
it (refused), it fails or its citations fail the checks (the extractive answer instead, unless
that answer is about something else than was asked), or no sentence answers (refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from rag.answer.answerers import answered, extractive_answer, llm_answer, refusal
from rag.answer.question_type import read_focus
from rag.answer.refusal import RefusalDecision
from rag.answer.retrieval import Retrieval
from rag.index.lexical import tokenize
from rag.models import Answer, AnswerEvent, Final, Reset

Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Retrieved:
    """A question, what was found for it and the gate's decision: the service's `retrieve` step,
    the answer policy's input, and what the evaluation and benchmarks read (it never travels on
    the product's events)."""

    question: str  # as asked
    query: str  # the standalone question that was searched
    found: Retrieval
    decision: RefusalDecision
    quick: Embed  # the cheap sentence vectors, each text computed once per question
    encode: Embed  # the full sentence encoder
    timings: dict


def off_target(question: str, answer: Answer, found: Retrieval) -> bool:
    """True when the question names something (a company, a person, a place) that the cited
    articles never mention: "What did Tesla report?" answered from an article about Xiaomi."""
    names = read_focus(question).names
    if not names:
        return False
    cited = {c.article_id for c in answer.citations}
    words = set()
    for hit in found.articles:
        if hit.article_id in cited:
            for passage in hit.passages:
                words.update(tokenize(f"{passage.title} {passage.text}"))
    return any(not set(tokenize(name)) & words for name in names if tokenize(name))


class AnswerPolicy:
    def __init__(self, llm, answer_sentences: int):
        """`llm`: an object with `stream(messages, timeout_s)` (rag.answer.llm.LlmClient), or
        None for extractive answers only."""
        self.llm = llm
        self.answer_sentences = answer_sentences

    def events(self, retrieved: Retrieved) -> Iterator[AnswerEvent]:
        """Delta (text to append) and Reset (discard the text so far) events, then one Final."""
        if retrieved.decision.refuse:
            return refusal(retrieved.found, retrieved.timings)
        if self.llm is None:
            return self._extractive(retrieved)
        return self._llm(retrieved)

    def _llm(self, retrieved: Retrieved) -> Iterator[AnswerEvent]:
        outcome = yield from llm_answer(self.llm, retrieved.query, retrieved.found, retrieved.timings)
        if outcome.answer is not None:
            yield Final(outcome.answer)
            return
        if outcome.shown:
            yield Reset()
        if outcome.not_covered:
            yield from refusal(retrieved.found, retrieved.timings)
            return
        yield from self._extractive(retrieved, failure=outcome.failure)

    def _extractive(self, retrieved: Retrieved, failure: str | None = None) -> Iterator[AnswerEvent]:
        """After a failed LLM answer (`failure`), the extractive answer stands in only when it is
        about what was asked: the model's silence on a question naming another company is
        not overruled by a sentence about this one."""
        answer = extractive_answer(
            retrieved.found, retrieved.quick, self.answer_sentences, retrieved.timings,
            "extractive-fallback" if failure else "extractive", failure, focus=retrieved.question,
            encode=retrieved.encode)
        if answer is None or (failure and off_target(retrieved.question, answer, retrieved.found)):
            yield from refusal(retrieved.found, retrieved.timings)
            return
        yield from answered(answer)
