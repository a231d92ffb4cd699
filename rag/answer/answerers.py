"""The three ways to answer, each on its own: the refusal, the LLM answer with checked citations,
and the extractive answer. Which one a question gets, and what follows when one fails, is
decided in rag/answer/policy.py and nowhere else."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Generator, Iterator

import numpy as np

from rag.answer import extractive
from rag.answer.citations import NOT_COVERED, MarkerStream, check_answer, citation
from rag.answer.llm import LlmClient, answer_messages
from rag.answer.question_type import read_focus
from rag.answer.retrieval import Retrieval, group_by_article
from rag.answer.spans import span_in_answer
from rag.errors import LlmError
from rag.models import Answer, AnswerEvent, AnswerSpan, Delta, Final, NearbyArticle, Reset

log = logging.getLogger(__name__)
REFUSAL_TEXT = "The articles don't cover this question."
NEARBY_COUNT = 3

def nearby(retrieval: Retrieval) -> list[NearbyArticle]:
    return [NearbyArticle(article_id=a.article_id, title=a.title, published=a.published,
                          source=a.source, score=round(a.score, 4))
            for a in retrieval.articles[:NEARBY_COUNT]]


def refusal(retrieval: Retrieval, timings: dict) -> Iterator[AnswerEvent]:
    yield Delta(REFUSAL_TEXT)
    yield Final(Answer(answer=REFUSAL_TEXT, refused=True, mode="refusal", query=retrieval.query,
                       nearby=nearby(retrieval), timings=timings))


def answered(answer: Answer) -> Iterator[AnswerEvent]:
    """A whole answer as events: its text, then the answer itself."""
    yield Delta(answer.answer)
    yield Final(answer)


def extractive_answer(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray], count: int,
                      timings: dict, mode: str = "extractive", reason: str | None = None,
                      focus: str | None = None,
                      encode: Callable[[list[str]], np.ndarray] | None = None) -> Answer | None:
    """The best sentences of the passages, cited; None when no sentence answers. `focus` is the
    question as typed when the searched query was rewritten from it; `encode` the full sentence
    encoder, for marking a name asked by its kind."""
    started = time.perf_counter()
    retrieval = extractive.with_top_article(retrieval)
    picks = extractive.pick_sentences(retrieval, embed, count, focus, encode)
    if not picks:
        return None
    text, order, span = extractive.compose(picks)
    highlights = {}
    for pick in sorted(picks, key=lambda p: -p.score):
        highlights.setdefault(pick.passage, pick.sentence)
    citations = [citation(n, retrieval.passages[i], highlights[i]) for n, i in enumerate(order, 1)]
    timings["answer_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return Answer(answer=text, refused=False, citations=citations, mode=mode, fallback_reason=reason,
                  query=retrieval.query, timings=timings,
                  answer_span=AnswerSpan(start=span[0], end=span[1]) if span else None)


def _asked_on(retrieval: Retrieval) -> str | None:
    if retrieval.time is None:
        return None
    return datetime.fromtimestamp(retrieval.time.as_of, timezone.utc).strftime("%Y-%m-%d")


class _HoldBack:
    """Passes streamed text on, except while it could still be the bare NOT COVERED reply,
    which must never reach the user as an answer."""

    def __init__(self):
        self.text = ""
        self.sent = 0
        self.started = False

    def add(self, piece: str) -> str:
        self.text += piece
        if not self.started:
            head = self.text.strip().upper()
            if len(head) <= len(NOT_COVERED) and NOT_COVERED.startswith(head):
                return ""
            self.started = True
        out, self.sent = self.text[self.sent:], len(self.text)
        return out

    def rest(self) -> str:
        out, self.sent = self.text[self.sent:], len(self.text)
        return out


@dataclass
class LlmOutcome:
    """How an LLM answer ended: checked and given (`answer`), "not covered" said by the model,
    or failed (`failure`: the error, or why its checks rejected it). `shown`: text already
    went out, which a replacement must take back."""

    answer: Answer | None = None
    not_covered: bool = False
    failure: str | None = None
    shown: bool = False


def llm_answer(llm: LlmClient, question: str, retrieval: Retrieval,
               timings: dict) -> Generator[AnswerEvent, None, LlmOutcome]:
    """Stream the LLM's answer through the marker check (delta events, and a reset when the
    checks rewrote what was shown), and return how it ended; what follows a failure or a
    "not covered" is the answer policy's to decide."""
    started = time.perf_counter()
    # Shown best article first, its passages together (and the prompt says so): the small local
    # model otherwise often cited a later passage of another story (docs/benchmarks.md).
    passages = [p for hit in group_by_article(retrieval.passages) for p in hit.passages]
    markers = MarkerStream(len(passages))
    held = _HoldBack()

    def finish_timing() -> None:
        timings["llm_ms"] = round((time.perf_counter() - started) * 1000, 1)

    try:
        for piece in llm.stream(answer_messages(question, passages, _asked_on(retrieval))):
            out = held.add(markers.feed(piece))
            if out:
                yield Delta(out)
        out = held.add(markers.flush())
    except LlmError as exc:
        finish_timing()
        log.warning("LLM answer failed: %s", exc)
        return LlmOutcome(failure=str(exc), shown=bool(held.sent))
    finish_timing()
    checked = check_answer(held.text, passages, question)
    if checked.not_covered:
        return LlmOutcome(not_covered=True, shown=bool(held.sent))
    if checked.rejected:
        return LlmOutcome(failure=checked.rejected, shown=bool(held.sent))
    rest = out + held.rest()
    if checked.text != held.text.strip():
        # The checks changed the text: replace what was shown with the checked answer.
        yield Reset()
        yield Delta(checked.text)
    elif rest:
        yield Delta(rest)
    span = checked.span or span_in_answer(checked.text, read_focus(question))
    return LlmOutcome(answer=Answer(
        answer=checked.text, refused=False, citations=checked.citations, mode="llm",
        query=retrieval.query, unsupported=checked.unsupported, timings=timings,
        answer_span=AnswerSpan(start=span[0], end=span[1]) if span else None))
