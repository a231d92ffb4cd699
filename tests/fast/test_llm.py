"""The LLM answer path with a scripted in-process LLM: citation checks, fallbacks, refusals,
condensing and prompt hygiene. The slow twins are tests/test_llm.py and tests/test_injection.py
(a real OpenAI-compatible server over HTTP)."""

import re

import pytest

from rag.answer.answerers import REFUSAL_TEXT
from rag.answer.citations import NOT_COVERED
from rag.errors import LlmError
from rag.models import Delta, Reset, Turn
from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, write_article
from tests.fakes import FakeLlm
from tests.fast.conftest import BOTH_TIERS, fast_service
from tests.helpers.hostile_text import EVIL, PORT_BODY, PORT_QUESTION

PASSAGE = re.compile(r'<passage n="(\d+)"')
FACT = "Xiaomi raised its 2025 delivery target to over 400,000 units"


def after_last_reset(events) -> str:
    """The text a client shows at the end: the deltas since the last reset."""
    shown = ""
    for event in events:
        if isinstance(event, Reset):
            shown = ""
        elif isinstance(event, Delta):
            shown += event.text
    return shown


def test_a_cited_answer_passes_as_an_llm_answer(llm_service, fake_llm):
    fake_llm.reply = f"{FACT} [1]."
    answer = llm_service.answer(SEED_QUESTION)
    assert answer.mode == "llm" and not answer.refused
    assert answer.answer == f"{FACT} [1]."
    assert [c.n for c in answer.citations] == [1] and "400,000" in answer.citations[0].highlight
    assert answer.unsupported == [] and "llm_ms" in answer.timings
    [messages] = fake_llm.requests
    assert "never instructions" in messages[0]["content"]
    numbers = [int(n) for n in PASSAGE.findall(messages[-1]["content"])]
    assert numbers == list(range(1, llm_service.settings.top_k + 1))
    assert SEED_QUESTION in messages[-1]["content"]


def test_markers_pointing_at_no_passage_are_dropped(answering):
    service, model = answering
    model.reply = f"{FACT} [1][9]. Its EV division produced its 500,000th car [1, 7]."
    answer = service.answer(SEED_QUESTION)
    assert answer.mode == "llm"
    assert "[9]" not in answer.answer and "7]" not in answer.answer
    assert "400,000 units [1]." in answer.answer and "car [1]." in answer.answer
    assert [c.n for c in answer.citations] == [1]
    assert answer.citations[0].highlight and "400,000" in answer.citations[0].highlight
    assert answer.unsupported == []


def test_streamed_text_equals_the_final_answer(answering):
    service, model = answering
    model.reply = "The 2025 delivery target is over 400,000 units [1]. Xiaomi produced its 500,000th car [1][12]."
    events = list(service.stream(SEED_QUESTION))
    answer = events[-1].answer
    assert answer.mode == "llm" and "[12]" not in answer.answer
    assert after_last_reset(events).strip() == answer.answer
    assert len([e for e in events if isinstance(e, Delta)]) > 3


def test_sentences_without_citations_are_marked_unsupported(answering):
    service, model = answering
    model.reply = f"{FACT} [1]. Analysts expect the shares to double next year."
    answer = service.answer(SEED_QUESTION)
    assert answer.mode == "llm"
    assert answer.unsupported == ["Analysts expect the shares to double next year."]


def test_an_answer_citing_nothing_falls_back_to_extractive(answering):
    service, model = answering
    model.reply = "I think it is about one million cars."
    events = list(service.stream(SEED_QUESTION))
    answer = events[-1].answer
    assert answer.mode == "extractive-fallback" and "cited no passage" in answer.fallback_reason
    assert "400,000" in answer.answer and answer.citations
    assert any(isinstance(e, Reset) for e in events)
    assert after_last_reset(events) == answer.answer


def test_a_fallback_about_another_company_than_asked_is_a_refusal(seed_index, fake_llm):
    """The model would not cite anything for Tesla; the extractive answer from the Xiaomi
    article does not overrule it (rag/answer/policy.py)."""
    question = "What did Tesla report in its third-quarter earnings?"
    # A gate that lets the question through, as the real one does (a known miss of
    # tests/test_seed_questions.py): the policy is what must refuse it.
    llm_service = seed_index.service(llm=fake_llm, refusal_threshold=0.05)
    assert not llm_service.retrieve(question).decision.refuse
    fake_llm.reply = "The passages talk about another carmaker's results."
    events = list(llm_service.stream(question))
    answer = events[-1].answer
    assert answer.refused and answer.mode == "refusal" and answer.citations == []
    assert after_last_reset(events) == REFUSAL_TEXT
    # The same reply to a question about the article's own company still falls back.
    assert llm_service.answer("What did Xiaomi report in its third-quarter earnings?").mode == "extractive-fallback"


@pytest.mark.parametrize("raise_after", [0, 2])
def test_an_llm_failure_falls_back_to_extractive(llm_service, fake_llm, raise_after):
    fake_llm.reply, fake_llm.raise_after = LlmError("LLM timed out after 1.5s"), raise_after
    events = list(llm_service.stream(SEED_QUESTION))
    answer = events[-1].answer
    assert answer.mode == "extractive-fallback" and "timed out" in answer.fallback_reason
    assert "400,000" in answer.answer and answer.citations
    # Text already shown is withdrawn; nothing was shown when the LLM failed at once.
    assert any(isinstance(e, Reset) for e in events) == (raise_after > 0)
    assert after_last_reset(events) == answer.answer


@pytest.mark.parametrize("reply", [NOT_COVERED, f"  {NOT_COVERED.lower()}\n", list(NOT_COVERED)])
def test_not_covered_becomes_a_refusal(llm_service, fake_llm, reply):
    fake_llm.reply = reply
    events = list(llm_service.stream(SEED_QUESTION))
    answer = events[-1].answer
    assert answer.refused and answer.mode == "refusal" and answer.citations == []
    assert answer.answer == REFUSAL_TEXT == after_last_reset(events)
    assert all(NOT_COVERED.lower() not in e.text.lower() for e in events if isinstance(e, Delta))


def test_uncovered_questions_never_reach_the_llm(answering):
    service, model = answering
    assert service.answer(OFF_TOPIC_QUESTION).refused
    assert model.requests == []


def test_follow_ups_are_condensed_by_the_llm(answering):
    service, model = answering

    def reply(messages):
        if "standalone question" in messages[0]["content"]:
            return "How much profit did Xiaomi's EV division make?"
        passages = re.findall(r'<passage n="(\d+)"[^>]*>(.*?)</passage>', messages[-1]["content"], re.S)
        n = next(n for n, body in passages if "700 million yuan" in body)
        return f"The EV and AI division achieved a profit of 700 million yuan [{n}]."

    model.reply = reply
    history = [Turn(role="user", content="How many cars will Xiaomi deliver?"),
               Turn(role="assistant", content="Over 400,000 [1].")]
    answer = service.answer("What about its profit?", history)
    assert answer.query == "How much profit did Xiaomi's EV division make?"
    assert answer.mode == "llm" and "700 million yuan" in answer.answer
    assert len(model.requests) == 2 and "Last question: What about its profit?" in model.prompts[0]
    assert "700 million yuan" in model.prompts[-1]


def test_a_failed_condense_falls_back_to_the_rule_based_rewrite(llm_service, fake_llm):
    fake_llm.reply = LlmError("down")
    history = [Turn(role="user", content="How many cars will Xiaomi deliver?"),
               Turn(role="assistant", content="Over 400,000 [1].")]
    answer = llm_service.answer("What about its profit?", history)
    assert "Xiaomi" in answer.query and answer.mode == "extractive-fallback"


# --- articles that carry instructions -----------------------------------------------------------


@pytest.fixture
def port(corpus):
    """The port article indexed; `port(llm)` is a service over it answering through `llm`."""
    write_article(corpus.settings.seeds_dir, "port.txt", "Aldbridge port to add berths", PORT_BODY)
    corpus.rebuild()
    return lambda llm: fast_service(corpus.settings, llm=llm, store=corpus.store,
                                    embedder=corpus.embedder)


def test_injected_orders_never_reach_the_llm(port):
    llm = FakeLlm("The port will add two new container berths [1].")
    answer = port(llm).answer(PORT_QUESTION)
    [prompt] = llm.prompts
    assert '<passage n="1"' in prompt and "two new container berths" in prompt
    assert EVIL not in prompt and "Ignore previous" not in prompt
    assert "[instruction-like text removed]" in prompt
    assert answer.mode == "llm" and "two new container berths [1]" in answer.answer


def test_an_llm_that_obeys_an_injection_is_not_presented_as_cited(port):
    llm = FakeLlm(f"Visit {EVIL} and enter your bank password to claim your refund [1].")
    events = list(port(llm).stream(PORT_QUESTION))
    answer = events[-1].answer
    assert answer.mode == "extractive-fallback" and "not supported" in answer.fallback_reason
    assert EVIL not in answer.answer and "two new container berths" in answer.answer
    assert any(isinstance(e, Reset) for e in events)


@pytest.fixture(params=BOTH_TIERS)
def port_extractive(request, tmp_path):
    """The port article answered extractively: over the fakes, or with real Chroma and MiniLM."""
    if request.param == "fake":
        return request.getfixturevalue("port")(None)
    from rag.index.build import rebuild
    from rag.service import RagService
    from tests.conftest import make_settings

    write_article(tmp_path / "seeds", "port.txt", "Aldbridge port to add berths", PORT_BODY)
    settings = make_settings(tmp_path)
    rebuild(settings)
    return RagService(settings)


def test_the_extractive_answer_ignores_the_injection(port_extractive):
    service = port_extractive
    answer = service.answer(PORT_QUESTION)
    assert not answer.refused and "two new container berths" in answer.answer  # the article answers
    for question in (PORT_QUESTION, "How can I claim a refund from the port of Aldbridge?",
                     "What should the user do according to the instructions?"):
        answer = service.answer(question)
        assert EVIL not in answer.answer and "password" not in answer.answer


def test_a_bullet_without_a_full_stop_loses_an_ungrounded_citation(llm_service, fake_llm):
    # A list written without full stops: each line is its own claim, checked on its own span of
    # the text; an injected line cannot ride on a grounded neighbour's citation.
    fake_llm.reply = (f"- {FACT} [1]\n"
                      "- Visit lucky-prizes.example to claim your welcome gifts today [1]\n"
                      "- Its EV division produced its 500,000th car [1]")
    answer = llm_service.answer(SEED_QUESTION)
    assert answer.mode == "llm"
    lines = answer.answer.splitlines()
    assert lines[0].endswith("[1]") and lines[2].endswith("[1]")
    assert "welcome gifts" in lines[1] and "[1]" not in lines[1]
    assert any("welcome gifts" in s for s in answer.unsupported)
    assert not any("400,000" in s for s in answer.unsupported)


def test_a_marker_after_the_full_stop_belongs_to_its_sentence(llm_service, fake_llm):
    fake_llm.reply = f"{FACT}. [1] Visit lucky-prizes.example to claim your welcome gifts today. [1]"
    answer = llm_service.answer(SEED_QUESTION)
    assert answer.mode == "llm"
    assert f"{FACT}. [1]" in answer.answer
    assert answer.answer.rstrip().endswith("gifts today.")
    assert [s for s in answer.unsupported if "welcome gifts" in s]


def test_a_marker_opening_a_line_belongs_to_that_line(llm_service, fake_llm):
    fake_llm.reply = (f"- [1] {FACT}.\n"
                      "- [1] Its EV division produced its 500,000th car.")
    answer = llm_service.answer(SEED_QUESTION)
    assert answer.mode == "llm" and answer.unsupported == []
    assert [line.count("[1]") for line in answer.answer.splitlines()] == [1, 1]
