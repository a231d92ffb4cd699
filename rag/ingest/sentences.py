"""Sentence splitting with NLTK's English Punkt model (bundled with llama-index, so no download):
it knows abbreviations such as "Corp." and "U.S." that a plain regex splits on."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

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
