"""Questions a new user asks of the shipped seed article, with the real parts: every type of
question answered with its answer marked, short questions and paraphrases answered, and
off-target questions (other companies, other facts, the promotional blocks, other topics)
refused with nothing cited. The questions are in tests/data/seed_questions.jsonl; the gate was
trained with them (benchmarks/train_gate.py), so these are tuned figures, not held-out ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval import metrics

QUESTIONS = [json.loads(line) for line in
             (Path(__file__).parent / "data" / "seed_questions.jsonl").read_text().splitlines() if line.strip()]
ANSWERABLE = [q for q in QUESTIONS if q["answerable"]]
OFF_TARGET = [q for q in QUESTIONS if not q["answerable"]]
# Where the answer is a name, number, date or place, the marked span must be it.
SPAN_KINDS = {"number", "amount", "person", "date", "place", "name"}
# What the product gets wrong today, kept visible: strict, so a fix shows up as a failure here
# until the mark is removed. Off-target questions whose words the article shares ("third-quarter
# earnings", "cars", "deliver", "2025") or about a fact it leaves out pass the gate, and two
# paraphrases that share almost no words with the article are refused; see the issue-12 note.
# (Apple's CEO, Samsung's earnings and the SU7's price are refused since the gate reads how well
# the best sentence answers; the seed questions are among the gate's training questions.)
KNOWN_MISSES = {
    "How much money did the car business make last quarter?": "gate refuses: no word of it is the article's",
    "Who runs Xiaomi?": "gate refuses: 'runs' is not in the article and the passage embeds far off",
    "What did Xiaomi's EV unit earn?": "the delivery sentence's passage outranks the profit sentence",
    "Why is Xiaomi worried about its earnings?": "'worried' vs 'concerned': the cause sentence is not picked",
    "What did Tesla report in its third-quarter earnings?": "gate: shares 'third-quarter earnings'",
    "How many cars did BYD deliver in 2025?": "gate: shares 'cars', 'deliver', '2025'",
    "How many smartphones did Xiaomi sell in 2024?": "gate: on topic, fact absent",
}


def cases(rows: list[dict]) -> list:
    return [pytest.param(q, id=q["question"], marks=pytest.mark.xfail(
        strict=True, reason=KNOWN_MISSES[q["question"]])) if q["question"] in KNOWN_MISSES
            else pytest.param(q, id=q["question"]) for q in rows]


@pytest.mark.parametrize("case", cases(ANSWERABLE))
def test_answerable_questions_are_answered_up_front(seed_service, case):
    answer = seed_service.answer(case["question"])
    assert not answer.refused, case["question"]
    assert answer.citations and all(c.source.startswith("000_") for c in answer.citations)
    assert metrics.contains_answer(metrics.first_words(answer.answer), case["answers"]), answer.answer
    assert len(metrics.answer_words(answer.answer)) <= 60


@pytest.mark.parametrize("case", cases([q for q in ANSWERABLE if q["kind"] in SPAN_KINDS]))
def test_the_answer_is_marked(seed_service, case):
    answer = seed_service.answer(case["question"])
    span = answer.answer_span
    assert span is not None, answer.answer
    marked = answer.answer[span.start:span.end]
    assert metrics.span_f1(marked, case["answers"]) >= 0.5, (marked, case["answers"])
    assert "[" not in marked and "<" not in marked  # plain text, no markers, no markup


@pytest.mark.parametrize("case", cases(OFF_TARGET))
def test_off_target_questions_are_refused_with_nothing_cited(seed_service, case):
    answer = seed_service.answer(case["question"])
    assert answer.refused, (case["question"], answer.answer)
    assert not answer.citations and answer.answer_span is None
