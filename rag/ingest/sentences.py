"""Sentence splitting with NLTK's English Punkt model (bundled with llama-index, so no download):
it knows abbreviations such as "Corp." and "U.S." that a plain regex splits on."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rag.lexicon import MARKER

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@lru_cache(maxsize=1)
def _punkt():
    import llama_index.core
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    bundled = str(Path(llama_index.core.__file__).parent / "_static" / "nltk_cache")
    if bundled not in nltk.data.path:
        nltk.data.path.append(bundled)
    return PunktTokenizer("english")


def split_sentences(text: str) -> list[str]:
    """Sentences in order; a paragraph break always ends a sentence (headings stay apart)."""
    tokenizer = _punkt()
    out = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            out.extend(s.strip() for s in tokenizer.tokenize(paragraph) if s.strip())
    return out


def sentence_spans(text: str) -> list[str]:
    """Sentences that keep their trailing whitespace, so joining them restores the text (the
    contract llama-index's SentenceSplitter expects of a tokenizer function)."""
    tokenizer = _punkt()
    spans = list(tokenizer.span_tokenize(text))
    return [text[start:(spans[i + 1][0] if i + 1 < len(spans) else len(text))]
            for i, (start, _) in enumerate(spans)] or [text]


_LINE = re.compile(r"[^\n]+")
_BULLET = re.compile(r"\s*(?:[-*•·–]|\d{1,2}[.)])\s+")
_LEADING_MARKERS = re.compile(rf"(?:\s*{MARKER})+")


def claim_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets into `text` of each claim an answer makes: every line on its own
    (list items and bullets need no full stop), and each sentence within a line. Citation
    markers written after a full stop ("... units. [1]") stay with the sentence before them on
    the same line.
    Offsets, not copies: a check can act on exactly the text it judged."""
    tokenizer = _punkt()
    spans: list[list[int]] = []
    for line in _LINE.finditer(text):
        bullet = _BULLET.match(line.group())
        base = line.start() + (bullet.end() if bullet else 0)
        for start, end in tokenizer.span_tokenize(text[base:line.end()]):
            start, end = base + start, base + end
            markers = _LEADING_MARKERS.match(text, start)
            # Only a sentence earlier on the same line owns them: on a new line ("- [2] Y.")
            # the markers belong to the claim they open.
            if markers and spans and spans[-1][0] >= line.start():
                spans[-1][1] = markers.end()
                start = markers.end()
                while start < end and text[start].isspace():
                    start += 1
            if start < end:
                spans.append([start, end])
    return [(start, end) for start, end in spans]
