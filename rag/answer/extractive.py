"""The answer without an LLM: the sentence that answers, with its [n] citation, and a second one
only when the question asks why or how, or the first does not hold what was asked; the answer
itself (the name, number, date or place asked for) is marked as a span."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from rag.answer.citations import is_instruction
from rag.answer import weights
from rag.answer.question_type import QuestionFocus, name_spans, read_focus
from rag.answer.retrieval import Retrieval
from rag.answer.spans import best_span, mark_span, opening
from rag.index.lexical import coverage, tokenize
from rag.ingest.sentences import split_sentences

MIN_WORDS = 5
_SENTENCE_END = re.compile(r"[.!?…][\"”'’)\]]*$")
_QUESTION_END = re.compile(r"\?[\"”'’)\]]*$")
# A sentence's score weighs its meaning, the question's words it covers, its passage's retrieval
# score, whether it holds an answer of the asked type, whether it opens its article (news puts
# the answer in the lead), and loses per place its article stands below the best-ranked one (a
# lower-ranked article that matches the words a little better is more often not the story
# asked about): the weights are rag/answer/weights.py's, in one object the gate is tied to.
MAX_ANSWER_WORDS = 60
# The best-ranked article's next passages beyond the top k are candidates too: its answer often
# sits in a paragraph that matched the question's words less well than another article's did.
# On news QA dev 1, 2 or 3 extra passages score alike (accuracy +3 questions of 295), 5 less.
TOP_ARTICLE_EXTRA = 2


@dataclass
class Pick:
    sentence: str
    passage: int  # index into retrieval.passages
    position: int
    score: float
    span: tuple[int, int] | None = None  # the answer within the sentence


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
            if _QUESTION_END.search(sentence):  # a question asks, it tells nothing (quiz pages)
                continue
            seen.add(key)
            out.append((index, position, sentence))
    return out


def with_top_article(retrieval: Retrieval) -> Retrieval:
    """The retrieval with up to TOP_ARTICLE_EXTRA more passages of its best-ranked article (its
    best passages not already shown, by score) after its own."""
    if not retrieval.articles:
        return retrieval
    shown = {passage.id for passage in retrieval.passages}
    extra = [p for p in retrieval.articles[0].passages if p.id not in shown][:TOP_ARTICLE_EXTRA]
    return replace(retrieval, passages=retrieval.passages + extra) if extra else retrieval


def known_names(retrieval: Retrieval) -> frozenset[str]:
    """Lower-cased words the passages write capitalised inside a sentence: names, as opposed to
    words capitalised only because they open one."""
    out = set()
    for passage in retrieval.passages:
        for sentence in split_sentences(passage.text):
            first = opening(sentence)
            for start, end in name_spans(sentence):
                if start > first:
                    out.update(word.lower() for word in re.findall(r"[\w’'\-]+", sentence[start:end]))
    return frozenset(out)


def score_sentences(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray],
                    focus: str | None = None, known: frozenset[str] | None = None) -> list[Pick]:
    """Every candidate sentence of the passages, best first.

    `embed` gives cheap sentence vectors (see LocalEmbedder.quick). `focus` is the question as
    the user typed it: for a follow-up its own words ("its profit") say what to pick, while the
    searched query also carries the subject from earlier turns. `known`: known_names of the
    passages, when the caller has them already."""
    pool = candidates(retrieval)
    if not pool:
        return []
    query_tokens = (tokenize(focus) if focus else []) or retrieval.query_tokens
    query_set = set(retrieval.query_tokens)
    asked = read_focus(focus or retrieval.query)
    texts = [retrieval.query] + ([focus] if focus and focus != retrieval.query else [])
    vectors = embed(texts + [sentence for _, _, sentence in pool])
    question_vectors, sentence_vectors = vectors[:len(texts)], vectors[len(texts):]
    similarity = sentence_vectors @ question_vectors.T
    # A follow-up's own words (the second vector) say most about what is being asked now.
    w = weights.WEIGHTS.sentence
    share = w.searched_query_share
    dense = similarity[:, 0] if len(texts) == 1 else share * similarity[:, 0] + (1 - share) * similarity[:, 1]
    known = known if known is not None else known_names(retrieval)
    article_rank = {hit.article_id: rank for rank, hit in enumerate(retrieval.articles)}
    scored = []
    for (index, position, sentence), cosine in zip(pool, dense):
        tokens = set(tokenize(sentence))
        if _is_echo(tokens, query_set):
            continue
        lexical = coverage(query_tokens, tokens, [1.0] * len(query_tokens))
        span, type_match = best_span(sentence, asked, known)
        passage = retrieval.passages[index]
        lead = passage.n == 0 and position < w.lead_sentences
        below = min(article_rank.get(passage.article_id, w.max_rank_steps), w.max_rank_steps)
        score = (w.meaning * float(cosine) + w.words * lexical + w.passage * passage.score
                 + w.answer_type * type_match + w.lead * lead - w.article_rank * below)
        scored.append(Pick(sentence, index, position, score, span))
    scored.sort(key=lambda p: -p.score)
    return scored


def pick_sentences(retrieval: Retrieval, embed: Callable[[list[str]], np.ndarray], count: int,
                   focus: str | None = None,
                   encode: Callable[[list[str]], np.ndarray] | None = None) -> list[Pick]:
    """The sentence that answers first; the next best of the same article (an answer that
    stays with one source cites precisely) only when it adds what the question asks: the
    question asks why or how, the first holds nothing of the asked type, or the second holds
    another candidate answer. At most `count` sentences and about 60 words.

    `encode` (the full sentence encoder) marks the answer of a name asked by its kind
    ("which planet") by meaning; without it the span nearest the question's words is marked."""
    known = known_names(retrieval)  # split once for scoring and for marking by meaning
    scored = score_sentences(retrieval, embed, focus, known)
    if not scored:
        return []
    asked = read_focus(focus or retrieval.query)
    if encode is not None:
        scored = _by_answer_kind(scored, asked, encode, known)
    article = retrieval.passages[scored[0].passage].article_id
    picks, words = [scored[0]], len(scored[0].sentence.split())
    for pick in scored[1:]:
        if len(picks) >= count:
            break
        if retrieval.passages[pick.passage].article_id != article:
            continue
        if not _adds(asked, picks, pick) or words + len(pick.sentence.split()) > MAX_ANSWER_WORDS:
            break  # the next best sentence of the article adds nothing asked for
        picks.append(pick)
        words += len(pick.sentence.split())
    return picks


def _by_answer_kind(scored: list[Pick], asked: QuestionFocus,
                    encode: Callable[[list[str]], np.ndarray], known: frozenset[str]) -> list[Pick]:
    """The best few sentences again, each with its answer marked by meaning (spans.mark_span)
    and, for a name asked by its kind, scored higher the nearer that answer is to the kind: of
    two sentences that match the question alike, the one naming a planet answers "which planet"."""
    w = weights.WEIGHTS.sentence
    head = scored[:w.rerank]
    for pick in head:
        pick.span, fit = mark_span(pick.sentence, asked, encode, known)
        if fit is not None:
            pick.score += w.kind_fit * fit
    head.sort(key=lambda p: -p.score)
    return head + scored[w.rerank:]


def _adds(asked: QuestionFocus, picks: list[Pick], candidate: Pick) -> bool:
    """Whether another sentence adds what the question asks: it asks why or how, or what was
    said; no sentence so far holds an answer of the asked type; or this one holds another."""
    if asked.answer_type in ("reason", "statement") or all(p.span is None for p in picks):
        return True
    return (candidate.span is not None
            and not any(candidate.sentence[slice(*candidate.span)] in p.sentence for p in picks))


def compose(picks: list[Pick]) -> tuple[str, list[int], tuple[int, int] | None]:
    """Answer text with [n] markers, the passage index behind each n (n = position + 1), and
    the answer span in the text (the first sentence's that has one)."""
    order: list[int] = []
    text, span = "", None
    for pick in picks:
        if pick.passage not in order:
            order.append(pick.passage)
        if text:
            text += " "
        if span is None and pick.span is not None:
            span = (len(text) + pick.span[0], len(text) + pick.span[1])
        text += f"{pick.sentence} [{order.index(pick.passage) + 1}]"
    return text, order, span
