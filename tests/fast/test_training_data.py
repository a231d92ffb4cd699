"""The answer model's quiz-style training questions (train/make_cloze.py): each asks for one name,
number or date of a sentence without giving it away, so the model must find the sentence that
holds the answer, not the one that repeats the question."""

from __future__ import annotations

import random

import pytest

from train.make_cloze import answers_in, question_from
from train.synthetic_eval import in_check_split

SENTENCES = [
    "Yale University recently issued an apology after it sent out 4,000 acceptance letters by "
    "mistake on Monday.",
    "Xiaomi said on Thursday that its EV unit made a profit of 700 million yuan, its founder "
    "Lei Jun said.",
    "Supermarkets in France are struggling to stock mustard after a poor harvest in Canada.",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_every_question_asks_for_what_it_leaves_out(sentence):
    found = answers_in(sentence)
    assert found, sentence
    rng = random.Random(0)
    for start, end, wh in found:
        answer = sentence[start:end]
        question = question_from(sentence, start, end, wh, rng)
        assert answer not in question, (answer, question)
        assert wh in question.lower() and question.endswith("?")
        assert len(question.split()) <= len(sentence.split())  # words dropped, none added


def test_the_kinds_asked_follow_the_answer():
    kinds = {sentence[start:end]: wh for sentence in SENTENCES
             for start, end, wh in answers_in(sentence)}
    assert kinds["Monday"] == "when" and kinds["4,000"] == "how many"
    assert kinds["700 million"] == "how much" and kinds["Lei Jun"] == "who"


def test_the_check_split_is_one_article_in_five_and_matches_the_committed_data():
    ids = [f"tm-{n}" for n in range(3000)]
    share = sum(map(in_check_split, ids)) / len(ids)
    assert 0.17 < share < 0.23
    # train/data/synthetic-check.jsonl and mined.jsonl were split this way: a change of the
    # hash would put checked articles into training.
    assert in_check_split("tm-2265") and in_check_split("tm-897")
    assert not in_check_split("tm-1354") and not in_check_split("tm-632")
