"""The citation policy, in one place. Article text is untrusted: instruction-like sentences never
reach the LLM or an extractive answer (`strip_instructions`, `is_instruction`). An LLM answer's
[n] markers must point at real passages, and each cited sentence must be supported by the
passages it cites (rag/answer/attribution.py); sentences written without a marker are cited to
the passage that supports them; `check_answer` is the one entry point that applies all of it to a
finished answer (`MarkerStream` applies the marker part to a stream as it arrives)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.attribution import (best_support, says_something, share, strip_markers,
                                    supported, with_marker)
from rag.answer.retrieval import Passage
from rag.answer.terse import quote_reply
from rag.index.lexical import tokenize
from rag.ingest.sentences import claim_spans, split_sentences
from rag.models import Citation, Copy
from rag.lexicon import MARKER

_MARKER = re.compile(r"\s?\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
_MAYBE_MARKER = re.compile(r"\s?\[[\d,;\s]*$")
MAX_MARKER_CHARS = 24


def _rewrite(match: re.Match, valid: range, cited: list[int]) -> str:
    numbers = [int(x) for x in re.split(r"[,;]", match.group(1)) if x.strip()]
    kept = [n for n in numbers if n in valid]
    for n in kept:
        if n not in cited:
            cited.append(n)
    lead = " " if match.group(0).startswith(" ") else ""
    return lead + "".join(f"[{n}]" for n in kept) if kept else ""


def check_markers(text: str, passage_count: int) -> tuple[str, list[int]]:
    """The text with markers that point at no passage dropped (and [1, 2] written [1][2]), and
    the valid passage numbers in order of first citation."""
    cited: list[int] = []
    valid = range(1, passage_count + 1)
    cleaned = _MARKER.sub(lambda m: _rewrite(m, valid, cited), text)
    return cleaned, cited


class MarkerStream:
    """Applies check_markers to text arriving in pieces: holds back only what could still be the
    start of a marker, so the stream shows exactly the text the final answer will have."""

    def __init__(self, passage_count: int):
        self.valid = range(1, passage_count + 1)
        self.cited: list[int] = []
        self._pending = ""

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        out, self._pending = self._split(text)
        return out

    def _split(self, text: str) -> tuple[str, str]:
        out = _MARKER.sub(lambda m: _rewrite(m, self.valid, self.cited), text)
        tail = _MAYBE_MARKER.search(out)
        if tail and len(out) - tail.start() <= MAX_MARKER_CHARS:
            return out[: tail.start()], out[tail.start():]
        return out, ""

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


def unsupported_sentences(text: str) -> list[str]:
    """Claims (sentences, lines, list items) of an answer that carry no citation marker, short
    connective phrases aside."""
    out = []
    for start, end in claim_spans(text):
        claim = " ".join(text[start:end].split())
        if _MARKER.search(claim):
            continue
        if len(claim.split()) >= 4:
            out.append(claim)
    return out


def citation(n: int, passage: Passage, highlight: str | None = None) -> Citation:
    return Citation(
        n=n, article_id=passage.article_id, title=passage.title, published=passage.published,
        source=passage.source, url=passage.url, quote=passage.text, highlight=highlight,
        score=round(passage.score, 4), also_in=[Copy(**copy) for copy in passage.also_in],
    )


# --- instruction-like text ------------------------------------------------------------------

# Phrases that address a model or try to change its orders: the shapes of prompt injection.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(instructions?|prompts?|rules?|"
    r"guidelines|directions|context|everything)\b"
    r"|\b(you are now|act as|pretend to be|from now on,? you|new instructions?|system prompt|"
    r"developer mode|jailbreak)\b"
    r"|\b(assistant|ai|chatbot|language model|llm)s?\b[^.!?\n]{0,30}\b(must|should|shall|will|need to)\b"
    r"|\b(tell|instruct|ask|urge)\s+(the\s+)?(user|reader)s?\b"
    r"|\brespond (only )?with\b|\bdo not (mention|cite|reveal)\b",
    re.IGNORECASE,
)
REMOVED = "[instruction-like text removed]"


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def strip_instructions(text: str) -> str:
    """The passage with instruction-like sentences replaced by a marker, paragraphs kept."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        sentences = split_sentences(paragraph)
        if any(is_instruction(s) for s in sentences):
            paragraph = " ".join(REMOVED if is_instruction(s) else s for s in sentences)
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


# --- whole answers -----------------------------------------------------------------------------

NOT_COVERED = "NOT COVERED"


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    not_covered: bool = False  # the model said the passages do not answer
    rejected: str | None = None  # why the answer cannot be shown (the extractive one replaces it)
    span: tuple[int, int] | None = None  # the answer span, where the checks already know it


def check_answer(text: str, passages: list[Passage], question: str = "") -> CheckedAnswer:
    """An LLM answer through every check: markers that point at no passage dropped; each claim
    kept with its citation only where the cited passages support it, else cited to the passage
    that does (post-hoc attribution: models that write no markers, or wrong ones), else left
    uncited and listed as unsupported. An answer that says nothing beyond the question, or is
    left with no supported claim, is rejected (the extractive answer replaces it)."""
    text, cited = check_markers(text, len(passages))
    text = text.strip()
    if not text or text.strip(" .").upper() == NOT_COVERED:
        return CheckedAnswer(text, not_covered=True)
    if not says_something(text, question):
        return _quoted(text, question, passages, cited) or CheckedAnswer(
            text, rejected="the LLM answer says nothing beyond the question")
    had_citations = bool(cited)
    text, cited = _attributed(text, passages, question)
    if not cited:
        return CheckedAnswer(text, rejected="the LLM answer is not supported by the passages it cites"
                             if had_citations else "the LLM answer cited no passage it rests on")
    return CheckedAnswer(text, citations=_llm_citations(text, cited, passages),
                         unsupported=unsupported_sentences(text))


def _quoted(reply: str, question: str, passages: list[Passage],
            cited: list[int]) -> CheckedAnswer | None:
    """A terse reply shown in the passage sentence that says it (rag/answer/terse.py)."""
    quote = quote_reply(reply, question, [p.text for p in passages], cited, blocked=is_instruction)
    if quote is None:
        return None
    text, n, span = quote
    return CheckedAnswer(text, citations=[citation(n, passages[n - 1], strip_markers(text))],
                         span=span)


def _attributed(text: str, passages: list[Passage], question: str) -> tuple[str, list[int]]:
    """Each claim cited by the passages that support it: its own markers when they do, else
    the best supporting passage, else none. Works on spans of the text itself, last first so
    that earlier offsets stay valid; returns the text and the valid citations."""
    sources = [strip_instructions(p.text) for p in passages]
    for start, end in reversed(claim_spans(text)):
        claim = text[start:end]
        numbers = [n for n in map(int, re.findall(MARKER, claim)) if 1 <= n <= len(sources)]
        bare = strip_markers(claim)
        cited = [sources[n - 1] for n in numbers]
        if numbers and supported(claim, cited, question):
            # Several markers where one of their passages says it all: only that one is a
            # source of the claim (a second article cited beside it is not).
            alone = best_support(bare, cited, question) if len(set(numbers)) > 1 else None
            if alone:
                text = text[:start] + with_marker(bare, numbers[alone - 1]) + text[end:]
            else:
                better = _better_ranked(bare, sources, passages, numbers, question)
                if better:
                    text = text[:start] + with_marker(bare, better) + text[end:]
            continue
        if len(tokenize(bare)) < 2:  # a connective or a stray marker, not a claim
            text = text[:start] + bare + text[end:]
            continue
        best = best_support(bare, sources, question)
        text = text[:start] + (with_marker(bare, best) if best else bare) + text[end:]
    return check_markers(text, len(passages))


def _better_ranked(claim: str, sources: list[str], passages: list[Passage], numbers: list[int],
                   question: str) -> int | None:
    """The passage of a better-ranked article that says the claim as fully as the one cited, if
    any: two articles telling the same story, the answer cites the one the search ranked first
    (passages come in rank order, so an article ranks where its first passage stands)."""
    cited_articles = {passages[n - 1].article_id for n in numbers}
    first_cited = min(numbers)
    said = share(claim, [sources[n - 1] for n in numbers])
    for n in range(1, first_cited):
        if (passages[n - 1].article_id not in cited_articles
                and supported(claim, [sources[n - 1]], question)
                and share(claim, [sources[n - 1]]) >= said):
            return n
    return None


def _highlight(passage: Passage, claims: list[str]) -> str | None:
    """The passage sentence that shares most words with the answer sentences citing it."""
    claim_tokens = set(tokenize(" ".join(claims)))
    best, best_overlap = None, 0
    for sentence in split_sentences(passage.text):
        overlap = len(claim_tokens & set(tokenize(sentence)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def _llm_citations(text: str, cited: list[int], passages: list[Passage]) -> list[Citation]:
    claims = [text[start:end] for start, end in claim_spans(text)]
    out = []
    for n in sorted(cited):
        citing = [c for c in claims if f"[{n}]" in c] or [text]
        out.append(citation(n, passages[n - 1], _highlight(passages[n - 1], citing)))
    return out
