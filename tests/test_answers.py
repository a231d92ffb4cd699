"""Extractive answers, refusals and citations on the shipped seed article (no LLM configured)."""

import json
import re
import subprocess
import sys

import pytest

from rag.models import Filters, Turn, shorten
from rag.errors import BadFilter
from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, rag_env


def test_seed_question_gets_a_correct_cited_answer(seed_service):
    answer = seed_service.answer(SEED_QUESTION)
    assert not answer.refused and answer.mode == "extractive"
    assert "400,000" in answer.answer
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations} and markers
    for c in answer.citations:
        assert c.title.startswith("Xiaomi raises 2025")
        assert c.published == "2025-11-21T10:20:00"
        assert c.source == "000_91fdc298d10704eb.txt"
        assert c.highlight and c.highlight in c.quote
        assert c.highlight in answer.answer
        assert 0 <= c.score <= 1
    assert any("400,000" in c.quote for c in answer.citations)


@pytest.mark.parametrize("question, expected", [
    ("How much profit did Xiaomi's EV and AI division make?", "700 million yuan"),
    ("Who is Xiaomi's founder and CEO?", "Lei Jun"),
    ("What did Lu Weibing say about the memory chip shortage?", "worse and last longer"),
])
def test_other_seed_facts(seed_service, question, expected):
    answer = seed_service.answer(question)
    assert not answer.refused
    assert expected in answer.answer


@pytest.mark.parametrize("question", [
    OFF_TOPIC_QUESTION,
    "What is the weather forecast for Paris tomorrow?",
    "How do I bake sourdough bread?",
])
def test_uncovered_questions_are_refused_without_citations(seed_service, question):
    answer = seed_service.answer(question)
    assert answer.refused and answer.mode == "refusal"
    assert answer.citations == []
    assert "don't cover" in answer.answer
    assert "llm_ms" not in answer.timings


def test_boilerplate_is_never_cited(seed_service):
    answer = seed_service.answer("How do I sign up to Bybit and get welcome gifts for trading?")
    assert all("Bybit" not in c.quote for c in answer.citations)


def test_follow_up_questions_carry_the_subject(seed_service):
    history = [Turn(role="user", content="How many cars will Xiaomi deliver this year?"),
               Turn(role="assistant", content="Over 400,000 [1].")]
    answer = seed_service.answer("What about its profit?", history=history)
    assert "Xiaomi" in answer.query
    # The follow-up's own word decides which sentences answer it.
    assert not answer.refused and "profit" in answer.answer.lower()
    assert any("profit" in (c.highlight or "").lower() for c in answer.citations)


def test_filters(seed_service):
    later = seed_service.answer(SEED_QUESTION, filters=Filters(published_after="2025-12-01"))
    assert later.refused and later.citations == []
    same_day = seed_service.answer(SEED_QUESTION, filters=Filters(published_before="2025-11-21"))
    assert not same_day.refused
    by_source = seed_service.answer(SEED_QUESTION, filters=Filters(source="000_91fdc298d10704eb.txt"))
    assert not by_source.refused
    other = seed_service.answer(SEED_QUESTION, filters=Filters(source="elsewhere.txt"))
    assert other.refused
    with pytest.raises(BadFilter):
        seed_service.answer(SEED_QUESTION, filters=Filters(published_after="last tuesday-ish"))


def test_cli_ask_json(seed_settings):
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", SEED_QUESTION],
                          env=rag_env(seed_settings), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["refused"] is False and "400,000" in data["answer"]
    for citation in data["citations"]:
        assert {"n", "title", "published", "source", "url", "quote", "score"} <= set(citation)


def test_cli_ask_prints_sources_and_refusals(seed_settings):
    env = rag_env(seed_settings)
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", SEED_QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Sources:" in proc.stdout and "[1] Xiaomi raises 2025" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", OFF_TOPIC_QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "don't cover" in proc.stdout and "Sources:" not in proc.stdout


def test_cli_ask_without_an_index(tmp_path, seed_settings):
    env = rag_env(seed_settings, RAG_INDEX_DIR=str(tmp_path / "none"))
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", SEED_QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "rag index" in proc.stderr


def test_shorten_never_cuts_inside_a_word():
    text = "Xiaomi raised its delivery target to over 400,000 units this year"
    for limit in range(10, len(text)):
        short = shorten(text, limit)
        assert len(short) <= limit
        kept = short.rstrip("…")
        assert text.startswith(kept) and (len(kept) == len(text) or text[len(kept)] == " ")


def test_a_developers_env_file_does_not_reach_the_tests(tmp_path, seed_settings):
    # A developer's .env (here: an LLM server that does not exist) in the folder the tests run
    # from must not change what the tests see: rag_env turns the settings file off.
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://127.0.0.1:9/v1\nRAG_LLM_MODEL=ghost\n")
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", SEED_QUESTION],
                          env=rag_env(seed_settings), cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mode"] == "extractive"
