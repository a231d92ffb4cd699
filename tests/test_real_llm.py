"""A real instruction-tuned model's cited answer reaches the user: Qwen2.5-Coder-0.5B-Instruct
served by xllamacpp on loopback (tests/helpers/qwen.py), temperature 0, on the seed article.
The model writes markers in odd places or not at all; post-hoc attribution and the support check
decide what is shown as cited."""

from __future__ import annotations

import re

import pytest

from rag.answer.attribution import supported
from rag.ingest.sentences import claim_spans
from rag.models import Delta
from rag.service import RagService


@pytest.fixture(scope="module")
def qwen_service(seed_settings, qwen_server):
    return RagService(seed_settings.model_copy(update={
        "openai_base_url": qwen_server, "openai_api_key": "local", "llm_model": "qwen",
        "llm_timeout_s": 240, "llm_temperature": 0.0}))


@pytest.mark.parametrize("question, fact", [
    ("How much profit did Xiaomi's EV and AI division make?", "700 million yuan"),
    ("Who is Xiaomi's founder and CEO?", "Lei Jun"),
])
def test_a_real_model_answer_reaches_the_user_cited_and_supported(qwen_service, question, fact):
    events = list(qwen_service.stream(question))
    answer = events[-1].answer
    assert answer.mode == "llm", (answer.fallback_reason, answer.answer)
    assert fact in answer.answer and answer.citations
    quotes = {c.n: c.quote for c in answer.citations}
    for start, end in claim_spans(answer.answer):
        claim = answer.answer[start:end]
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", claim)]
        if cited:  # every sentence shown as cited is supported by the passages it cites
            assert supported(claim, [quotes[n] for n in cited]), claim
    assert any(isinstance(e, Delta) for e in events)
    assert answer.timings["llm_ms"] > 0
