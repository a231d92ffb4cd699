"""From retrieved passages to an Answer: refusal, LLM answer with checked citations, or the
extractive answer; streamed as events so that every front end shows the same text."""

from __future__ import annotations

import logging
import re
import time
from typing import Callable, Iterator

import numpy as np

from rag import extractive
from rag.citations import MarkerStream, check_markers, citation, unsupported_sentences
from rag.lexical import tokenize
from rag.llm import NOT_COVERED, LlmClient, LlmError, answer_messages
from rag.models import Answer, Citation, NearbyArticle
from rag.retrieval import Passage, Retrieval
from rag.safety import grounded, strip_instructions
from rag.sentences import split_sentences

log = logging.getLogger(__name__)
REFUSAL_TEXT = "The articles don't cover this question."
NEARBY_COUNT = 3

Event = dict


def delta(text: str) -> Event:
    return {"event": "delta", "text": text}


def nearby(retrieval: Retrieval) -> list[NearbyArticle]:
    return [NearbyArticle(article_id=a.article_id, title=a.title, published=a.published,
                          source=a.source, score=round(a.score, 4))
            for a in retrieval.articles[:NEARBY_COUNT]]


def refusal(retrieval: Retrieval, timings: dict) -> Iterator[Event]:
    yield delta(REFUSAL_TEXT)
    yield {"event": "answer", "answer": Answer(
        answer=REFUSAL_TEXT, refused=True, mode="refusal", query=retrieval.query,
        nearby=nearby(retrieval), timings=timings)}


def extractive_answer(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray], count: int,
                      timings: dict, mode: str = "extractive", reason: str | None = None,
                      focus: str | None = None) -> Iterator[Event]:
    """`focus` is the question as typed when the searched query was rewritten from it."""
    started = time.perf_counter()
    picks = extractive.pick_sentences(retrieval, embed, count, focus)
    if not picks:
        yield from refusal(retrieval, timings)
        return
    text, order = extractive.compose(picks)
    highlights = {}
    for pick in sorted(picks, key=lambda p: -p.score):
        highlights.setdefault(pick.passage, pick.sentence)
    citations = [citation(n, retrieval.passages[i], highlights[i]) for n, i in enumerate(order, 1)]
    timings["answer_ms"] = round((time.perf_counter() - started) * 1000, 1)
    yield delta(text)
    yield {"event": "answer", "answer": Answer(
        answer=text, refused=False, citations=citations, mode=mode, fallback_reason=reason,
        query=retrieval.query, timings=timings)}


def _highlight(passage: Passage, claims: list[str]) -> str | None:
    """The passage sentence that shares most words with the answer sentences citing it."""
    claim_tokens = set(tokenize(" ".join(claims)))
    best, best_overlap = None, 0
    for sentence in split_sentences(passage.text):
        overlap = len(claim_tokens & set(tokenize(sentence)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def llm_citations(text: str, cited: list[int], passages: list[Passage]) -> list[Citation]:
    sentences = split_sentences(text)
    out = []
    for n in sorted(cited):
        claims = [s for s in sentences if f"[{n}]" in s] or [text]
        out.append(citation(n, passages[n - 1], _highlight(passages[n - 1], claims)))
    return out


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


def ungrounded_markers_removed(text: str, passages: list[Passage]) -> tuple[str, list[int]]:
    """Take the citation off any sentence that its cited passages do not support (so it is not
    presented as cited, and is listed as unsupported); returns the text and the valid citations."""
    for sentence in split_sentences(text):
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        if not numbers:
            continue
        sources = [strip_instructions(passages[n - 1].text) for n in numbers if 1 <= n <= len(passages)]
        if not grounded(sentence, sources):
            text = text.replace(sentence, re.sub(r"\s?\[\d+\]", "", sentence), 1)
    return check_markers(text, len(passages))


def llm_answer(llm: LlmClient, question: str, retrieval: Retrieval, fallback: Callable,
               timings: dict) -> Iterator[Event]:
    """Stream the LLM's answer through the marker check. On failure or timeout, or when the
    answer cites no passage, the extractive answer follows a reset event; when the LLM says the
    passages do not cover the question, a refusal follows."""
    started = time.perf_counter()
    passages = retrieval.passages
    markers = MarkerStream(len(passages))
    held = _HoldBack()

    def finish_timing() -> None:
        timings["llm_ms"] = round((time.perf_counter() - started) * 1000, 1)

    try:
        for piece in llm.stream(answer_messages(question, passages)):
            out = held.add(markers.feed(piece))
            if out:
                yield delta(out)
        out = held.add(markers.flush())
    except LlmError as exc:
        finish_timing()
        log.warning("LLM answer failed, giving the extractive answer: %s", exc)
        if held.sent:
            yield {"event": "reset"}
        yield from fallback(str(exc))
        return
    finish_timing()
    text, cited = check_markers(held.text, len(passages))
    text = text.strip()
    if text.strip(" .").upper() == NOT_COVERED or not text:
        yield from refusal(retrieval, timings)
        return
    had_citations = bool(cited)
    text, cited = ungrounded_markers_removed(text, passages)
    if not cited:
        if held.sent:
            yield {"event": "reset"}
        yield from fallback("the LLM answer is not supported by the passages it cites"
                            if had_citations else "the LLM answer cited no passage")
        return
    rest = out + held.rest()
    if text != held.text.strip():
        # The checks changed the text: replace what was shown with the checked answer.
        yield {"event": "reset"}
        yield delta(text)
    elif rest:
        yield delta(rest)
    yield {"event": "answer", "answer": Answer(
        answer=text, refused=False, citations=llm_citations(text, cited, passages), mode="llm",
        query=retrieval.query, unsupported=unsupported_sentences(text), timings=timings)}
