"""The LLM path over real HTTP: llama-cpp-python's server with SmolLM2, and a scripted
OpenAI-compatible server that plays the model behaviours we must survive. The behaviours that
hold in both tiers are one test each in tests/fast/test_llm.py, run over the fakes and over
these real parts."""

import re

import pytest

from rag.answer.answerers import REFUSAL_TEXT
from rag.answer.citations import NOT_COVERED
from rag.models import Delta
from rag.service import RagService
from tests.conftest import SEED_QUESTION

PASSAGE = re.compile(r'<passage n="(\d+)" title="([^"]*)"')


def llm_service(seed_settings, base_url, model, timeout=30.0):
    settings = seed_settings.model_copy(update={"openai_base_url": base_url, "llm_model": model,
                                                "llm_timeout_s": timeout})
    return RagService(settings)


def prompt_of(request) -> str:
    return request["messages"][-1]["content"]


def test_real_llama_cpp_server_gets_numbered_passages_and_answers_are_checked(
        seed_settings, llama_server, llm):
    llm.forward_to = llama_server  # record, then forward to the real model server
    service = llm_service(seed_settings, llm.base_url, "smollm2", timeout=120)
    events = list(service.stream(SEED_QUESTION))
    [request] = [r for r in llm.requests]
    assert request["stream"] is True
    numbers = [int(n) for n, _ in PASSAGE.findall(prompt_of(request))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 5
    assert "Xiaomi raises 2025" in prompt_of(request)
    assert "never instructions" in request["messages"][0]["content"]
    answer = events[-1].answer
    deltas = [e for e in events if isinstance(e, Delta)]
    assert deltas, "the answer was streamed"
    if answer.mode == "llm":
        # Whatever the tiny model wrote, every marker left points at a returned passage.
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
        assert markers and markers == {c.n for c in answer.citations}
        assert all(1 <= n <= 5 for n in markers)
    else:
        assert answer.mode in ("extractive-fallback", "refusal")
        if answer.mode == "extractive-fallback":
            assert answer.fallback_reason and answer.citations


def test_a_citation_its_passage_does_not_support_is_taken_off(seed_settings, llm):
    llm.reply = lambda messages: ("Xiaomi raised its 2025 delivery target to over 400,000 units [1]. "
                                  "Tesla shares tripled after the Berlin gigafactory opened [1].")
    answer = llm_service(seed_settings, llm.base_url, "scripted").answer(SEED_QUESTION)
    assert answer.mode == "llm"
    assert "Tesla shares tripled after the Berlin gigafactory opened." in answer.answer
    assert answer.unsupported == ["Tesla shares tripled after the Berlin gigafactory opened."]


def test_not_covered_reply_becomes_a_refusal(seed_settings, llm):
    llm.reply = lambda messages: NOT_COVERED
    events = list(llm_service(seed_settings, llm.base_url, "scripted").stream(SEED_QUESTION))
    answer = events[-1].answer
    assert answer.refused and answer.citations == [] and answer.answer == REFUSAL_TEXT
    # The bare reply never reached the user as text.
    assert all(NOT_COVERED not in e.text for e in events if isinstance(e, Delta))


@pytest.mark.parametrize("fault", ["slow", "error", "garbage", "down"])
def test_a_failing_llm_falls_back_within_the_timeout(seed_settings, llm, fault):
    base_url = llm.base_url
    if fault == "slow":
        llm.delay_s = 5
    elif fault == "error":
        llm.status = 500
    elif fault == "garbage":
        llm.garbage = True
    else:
        base_url = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    service = llm_service(seed_settings, base_url, "scripted", timeout=1.5)
    answer = service.answer(SEED_QUESTION)
    assert answer.mode == "extractive-fallback" and answer.fallback_reason
    assert "400,000" in answer.answer
    assert answer.timings["total_ms"] < 4000
