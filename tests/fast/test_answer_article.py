"""Which article the extractive answer comes from: the sentence is cited with its article, so a
lower-ranked article must answer clearly better before it is chosen over the best-ranked one."""

import numpy as np

from rag.answer.answerers import extractive_answer
from rag.answer.extractive import pick_sentences
from rag.answer.retrieval import ArticleHit, Passage, Retrieval
from rag.index.lexical import tokenize

QUESTION = "How many cars did Xiaomi deliver in October?"


def _same_vector(texts):  # meaning ties, so the ranks and the words decide
    return np.ones((len(texts), 4), dtype=np.float32) / 2.0


def _passage(row: int, article: str, text: str, score: float, n: int = 0) -> Passage:
    return Passage(row=row, id=f"{article}:{n}", article_id=article, n=n, title=article,
                   published="2025-11-01", source="test", url=None, text=text, score=score)


def _retrieval(first_text: str, second_text: str, first_score: float, second_score: float) -> Retrieval:
    first = _passage(0, "ranked-first", first_text, first_score)
    second = _passage(1, "ranked-second", second_text, second_score)
    articles = [ArticleHit("ranked-first", "ranked-first", "2025-11-01", "test", None, 0.9, [first]),
                ArticleHit("ranked-second", "ranked-second", "2025-11-01", "test", None, 0.8, [second])]
    # The passages come by their own score: the second article's passage scores higher.
    return Retrieval(query=QUESTION, passages=sorted([first, second], key=lambda p: -p.score),
                     articles=articles, query_tokens=tokenize(QUESTION), query_vector=np.zeros(4))


def _answer_article(retrieval: Retrieval) -> str:
    picks = pick_sentences(retrieval, _same_vector, 1)
    return retrieval.passages[picks[0].passage].article_id


def test_a_slightly_higher_passage_score_in_a_lower_ranked_article_does_not_win():
    retrieval = _retrieval("Xiaomi delivered more than 40,000 cars in October, the company said.",
                           "Xiaomi delivered about 39,000 cars in October, a rival outlet said.",
                           first_score=0.90, second_score=0.95)
    assert _answer_article(retrieval) == "ranked-first"


def test_a_lower_ranked_article_that_answers_clearly_better_is_chosen():
    retrieval = _retrieval("The carmaker opened a new showroom in Beijing on Friday afternoon.",
                           "Xiaomi delivered about 39,000 cars in October, a rival outlet said.",
                           first_score=0.90, second_score=0.95)
    assert _answer_article(retrieval) == "ranked-second"


def test_a_question_in_the_passage_is_never_the_answer():
    # Quiz pages ask what the reader asks: the question matches best, and answers nothing.
    retrieval = _retrieval("How many of the 40,000 cars Xiaomi delivered in October went to Beijing?",
                           "Xiaomi delivered about 39,000 cars in October, a rival outlet said.",
                           first_score=0.95, second_score=0.90)
    picks = pick_sentences(retrieval, _same_vector, 2)
    assert [p.sentence for p in picks] == ["Xiaomi delivered about 39,000 cars in October, a rival outlet said."]


def test_the_best_ranked_articles_next_passage_can_answer_beyond_the_top_k():
    # The passage that matched the question's words best says nothing of deliveries; the
    # article's answer sits in a passage that ranked below another article's.
    opening = _passage(0, "ranked-first", "Xiaomi opened a car showroom in Beijing in October.", 0.95)
    answer = _passage(1, "ranked-first", "Xiaomi delivered more than 40,000 cars in October, it said.", 0.40,
                      n=3)
    other = _passage(2, "ranked-second", "Xiaomi's cars drew long queues in October, analysts said.", 0.60)
    articles = [ArticleHit("ranked-first", "ranked-first", "2025-11-01", "test", None, 0.95, [opening, answer]),
                ArticleHit("ranked-second", "ranked-second", "2025-11-01", "test", None, 0.60, [other])]
    retrieval = Retrieval(query=QUESTION, passages=[opening, other], articles=articles,
                          query_tokens=tokenize(QUESTION), query_vector=np.zeros(4))
    reply = extractive_answer(retrieval, _same_vector, 1, {})
    assert reply.answer.startswith("Xiaomi delivered more than 40,000 cars")
    assert reply.answer[reply.answer_span.start:reply.answer_span.end] == "40,000"
    assert [(c.article_id, c.quote) for c in reply.citations] == [("ranked-first", answer.text)]


def test_how_many_days_is_answered_by_a_count_of_days_not_by_a_year():
    question = "Kwanzaa is celebrated for how many days?"
    text = ("First celebrated in 1966, Kwanzaa honours African heritage in American culture. "
            "Kwanzaa lasts seven days in total, ending on January 1.")
    only = _passage(0, "kwanzaa", text, 0.9)
    retrieval = Retrieval(query=question, passages=[only],
                          articles=[ArticleHit("kwanzaa", "kwanzaa", "2025-11-01", "test", None, 0.9, [only])],
                          query_tokens=tokenize(question), query_vector=np.zeros(4))
    picks = pick_sentences(retrieval, _same_vector, 1, question)
    assert picks[0].sentence.startswith("Kwanzaa lasts seven days")
    assert picks[0].sentence[slice(*picks[0].span)] == "seven"
