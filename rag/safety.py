"""Article text is untrusted: instruction-like sentences never reach the LLM or an extractive
answer, and an LLM answer's cited sentences must be grounded in the passages they cite."""

from __future__ import annotations

import re

from rag.lexical import tokenize
from rag.sentences import split_sentences

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
GROUNDING_MIN_SHARE = 0.5


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


def grounded(sentence: str, passages: list[str]) -> bool:
    """Most of the sentence's content words (stemmed) occur in the passages it cites."""
    words = set(tokenize(re.sub(r"\[\d+\]", " ", sentence)))
    if not words:
        return True
    available = set()
    for passage in passages:
        available |= set(tokenize(passage))
    return len(words & available) / len(words) >= GROUNDING_MIN_SHARE
