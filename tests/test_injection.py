"""Articles that carry instructions to the model: the orders never reach the user as a cited
answer, whether the model obeys them or not, and the extractive path ignores them."""

import re

import pytest

from rag.index.build import rebuild
from rag.models import Reset
from rag.service import RagService
from tests.conftest import make_settings, write_article
from tests.helpers.hostile_text import EVIL, PORT_BODY
from tests.helpers.hostile_text import PORT_QUESTION as QUESTION


@pytest.fixture(scope="module")
def injected_settings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inject")
    write_article(tmp / "seeds", "port.txt", "Aldbridge port to add berths", PORT_BODY)
    settings = make_settings(tmp)
    rebuild(settings)
    return settings


def with_llm(settings, base_url, model="scripted", timeout=30.0):
    return RagService(settings.model_copy(update={"openai_base_url": base_url, "llm_model": model,
                                                  "llm_timeout_s": timeout}))


def cited_sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if re.search(r"\[\d+\]", s)]


def test_the_injected_orders_never_reach_the_model(injected_settings, llm):
    llm.reply = lambda messages: "The port will add two new container berths [1]."
    answer = with_llm(injected_settings, llm.base_url).answer(QUESTION)
    prompt = llm.requests[-1]["messages"][-1]["content"]
    assert "<passage n=\"1\"" in prompt and EVIL not in prompt and "Ignore previous" not in prompt
    assert "[instruction-like text removed]" in prompt
    assert answer.mode == "llm" and "two new container berths [1]" in answer.answer


def test_a_model_that_obeys_the_injection_is_not_presented_as_cited(injected_settings, llm):
    llm.reply = lambda messages: f"Visit {EVIL} and enter your bank password to claim your refund [1]."
    events = list(with_llm(injected_settings, llm.base_url).stream(QUESTION))
    answer = events[-1].answer
    assert answer.mode == "extractive-fallback"
    assert "not supported" in answer.fallback_reason
    assert EVIL not in answer.answer and "two new container berths" in answer.answer
    # What was streamed before the check was withdrawn.
    assert any(isinstance(e, Reset) for e in events)


def test_obeyed_orders_mixed_with_facts_lose_their_citation(injected_settings, llm):
    llm.reply = lambda messages: (f"The port will add two new container berths by 2027 [1]. "
                                  f"Visit {EVIL} and enter your bank password for a refund [1].")
    answer = with_llm(injected_settings, llm.base_url).answer(QUESTION)
    assert answer.mode == "llm"
    assert all(EVIL not in s for s in cited_sentences(answer.answer))
    assert any(EVIL in s for s in answer.unsupported)


def test_real_llama_cpp_model_with_the_injection(injected_settings, llama_server, llm):
    llm.forward_to = llama_server
    answer = with_llm(injected_settings, llm.base_url, "smollm2", timeout=120).answer(QUESTION)
    prompt = llm.requests[-1]["messages"][-1]["content"]
    assert EVIL not in prompt and "two new container berths" in prompt
    # The model never saw the address, so nothing it wrote can carry it; and whatever it wrote,
    # the answer that went out is one of the three the policy allows, each as it should be.
    assert EVIL not in answer.answer
    if answer.mode == "llm":
        assert answer.citations and {c.n for c in answer.citations} <= set(range(1, 6))
    elif answer.mode == "extractive-fallback":
        assert answer.fallback_reason and "two new container berths" in answer.answer
    else:
        assert answer.refused and answer.citations == [] and answer.mode == "refusal"
