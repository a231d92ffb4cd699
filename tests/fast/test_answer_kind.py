"""The span marked as the answer: the kind of thing a question asks for, names without datelines,
ranks or sentence-opening words, and a name chosen by its meaning against that kind."""

import numpy as np
import pytest

from rag.answer.question_type import head_noun, read_focus
from rag.answer.spans import best_span, mark_span


@pytest.mark.parametrize("question, head", [
    ("Which Chinese chipmaker reported record revenue?", "Chinese chipmaker"),
    ("Which company's stock fell the most?", "company"),
    ("What is their destination?", "destination"),
    ("Which popular singer will headline the festival?", "popular singer"),
    ("Who won the race?", "person"),
    ("Where did the storm make landfall?", "place"),
    ("What is it?", None),
])
def test_the_kind_of_thing_a_question_asks_for(question, head):
    assert head_noun(question) == head


def marked(sentence: str, question: str, known=None) -> str | None:
    span, _ = best_span(sentence, read_focus(question), known)
    return sentence[span[0]:span[1]] if span else None


def test_a_dateline_is_not_the_answer():
    sentence = "WASHINGTON — Mike Pence announced his campaign for the presidency on Wednesday."
    assert marked(sentence, "Who announced a campaign for the presidency?") == "Mike Pence"


def test_ranks_before_a_name_are_not_part_of_it():
    sentence = "Former Vice President Mike Pence announced his campaign on Wednesday."
    assert marked(sentence, "Who announced his campaign on Wednesday?") == "Mike Pence"


def test_a_word_capitalised_only_because_it_opens_the_sentence_is_not_a_name():
    sentence = "Legendary striker Pelé died on Thursday in Sao Paulo."
    focus = read_focus("Which football star died on Thursday?")
    span, _ = best_span(sentence, focus, frozenset({"pelé", "sao", "paulo"}))
    assert sentence[span[0]:span[1]] != "Legendary"


def test_the_candidate_nearest_the_kind_in_meaning_is_marked():
    """With an encoder in which "planet" is near "Jupiter", Jupiter is marked for "which planet",
    not NASA, which stands nearer the question's own words."""
    vectors = {"planet": [1.0, 0.0], "Jupiter": [0.9, 0.1], "NASA": [0.0, 1.0]}

    def encode(texts):
        out = np.array([vectors.get(t, [0.5, 0.5]) for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    sentence = "The probe launched by NASA will reach Jupiter in 2031."
    focus = read_focus("Which planet will the probe launched by NASA reach?")
    span, fit = mark_span(sentence, focus, encode)
    assert sentence[span[0]:span[1]] == "Jupiter" and fit > 0.9


@pytest.mark.parametrize("sentence, question, title", [
    ("The HBO drama “Succession” won the top prize at the Emmys on Monday, beating Netflix.",
     "Which show took home the award for best drama series?", "Succession"),
    ('Activists glued themselves to the frame of John Constable\'s "The Hay Wain" in London.',
     "Activists glued their hands to which John Constable painting?", "The Hay Wain"),
    ('Beyoncé\'s latest single, "Break My Soul," dropped late Monday on Columbia Records.',
     "Beyoncé released a new song this week, titled:", "Break My Soul"),
])
def test_a_work_asked_for_is_the_title_in_quotes(sentence, question, title):
    assert marked(sentence, question) == title



def test_a_person_asked_by_what_they_are_is_a_full_name():
    sentence = "Unlike PGA Tour players, Dustin Johnson clinched the LIV Golf title on Sunday."
    question = "Which professional golfer clinched the LIV Golf championship?"
    assert read_focus(question).answer_type == "person"
    assert marked(sentence, question) == "Dustin Johnson"


def test_a_name_may_repeat_the_kind_asked_for():
    sentence = "Northeastern University’s law school apologised after it sent 4,000 letters by mistake."
    assert marked(sentence, "Which university apologised after it sent 4,000 letters?") == \
        "Northeastern University"
    # A name that repeats another word of the question is still the question's own.
    sentence = "Harriet Hageman, backed by Donald Trump, won the Wyoming primary on Tuesday."
    assert marked(sentence, "Wyoming elected which Trump-backed Republican in the primary?") == \
        "Harriet Hageman"


@pytest.mark.parametrize("question, kind, head", [
    # The noun after "which" says what is asked, whatever money or count words surround it.
    ("Which pop singer's concert film set a box-office record?", "person", "pop singer"),
    ("Nothing rose faster than the cost of which breakfast staple?", "name", "breakfast staple"),
    ("Which measure did the senators leave out of the deal?", "name", "measure"),
    ("Which public figure will plead guilty to tax charges?", "person", "public figure"),
    # With no such noun, or a noun that is itself the count, the words still say it.
    ("What is Xiaomi's delivery target?", "number", None),
    ("What is the current average rate for a 30-year mortgage?", "number", "current average rate"),
    ("Xiaomi EV profit?", "amount", None),
    ("What figure did the sales reach?", "number", "figure"),
    # Quiz questions open with context; the sentence that asks decides, and a relative "who"
    # describes the subject rather than asking for a person.
    ("Nichelle Nichols, who starred in Star Trek, died at 89. Which role did she play?",
     "name", "role"),
    ("Ye, who changed his name last year, is buying which social network?", "name", "social network"),
    ("After the queen's death in September, who became king?", "person", "person"),
    ("The actress died at 75. She also appeared in which of these films?", "name", "films"),
    ("Which of the following bands will headline the concert?", "name", "bands"),
    ("Who leads Xiaomi? Keep it short.", "person", "person"),
    ("The actress played Shirley. She was a special assistant to:", "other", None),
    ("Twelve people were hurt when a crane collapsed in which major city?", "place", "major city"),
    ("He retired after a career in which he won how many Grand Slam titles?", "number", None),
    ("Which show took home the award for best drama?", "name", "show"),
])
def test_the_asking_sentence_and_its_noun_decide_the_answer_type(question, kind, head):
    focus = read_focus(question)
    assert (focus.answer_type, focus.head) == (kind, head)


def test_a_singer_asked_for_is_marked_not_the_record_beside_her():
    sentence = "Taylor Swift's concert film opened to a record $96 million in North America."
    assert marked(sentence, "Which pop singer's concert film set a box-office record?") == "Taylor Swift"


@pytest.mark.parametrize("question, unit", [
    ("How many cars did Xiaomi deliver in October?", ("car",)),
    ("How many Grand Slam titles has Djokovic won?", ("grand", "slam", "titl")),
    ("Kwanzaa is celebrated for how many days?", ("day",)),
    ("What is Xiaomi's delivery target?", ()),
])
def test_what_a_how_many_question_counts(question, unit):
    assert read_focus(question).unit == unit


def test_what_year_is_answered_by_a_year_not_by_another_number():
    sentence = "The former mayor, who turns 90 in June, has served in the Senate since 1992."
    assert read_focus("What year was she first elected?").answer_type == "date"
    assert marked(sentence, "What year was she first elected?") == "1992"


def test_a_royal_named_by_rank_and_one_name_is_a_full_name():
    sentence = "The couple had two children, Prince William and Prince Harry."
    focus = read_focus("Who is next in line to the throne?")
    span, strength = best_span(sentence, focus)
    assert (sentence[span[0]:span[1]], strength) == ("Prince William", 1.0)
