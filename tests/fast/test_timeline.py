"""Time and copies through the service, over the fakes: the as-of cut, dated questions, recency
and the folding of syndicated copies (the same behaviour with the real parts: tests/test_timeline.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from rag.answer.question_dates import read_question_time
from rag.answer.retrieval import fuse
from rag.answer.stages import RecencyStage, StageContext
from tests.conftest import SEED_QUESTION, SEEDS
from tests.fast.conftest import BOTH_TIERS, fast_service, fast_settings
from tests.helpers.timeline import (AFTER_THE_FACTORY, CEO_QUESTION, FIRST_CEO, FORECAST_ANSWER,
                                    FORECAST_QUESTION, LATEST_QUESTION, MARCH_2024_QUESTION,
                                    NOW_CEO_QUESTION, SECOND_CEO, SYNDICATED_NAME,
                                    UNCOVERED_DATED_QUESTION, sources, write_collection)

AS_OF = datetime(2024, 11, 27, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timeline")
    seeds = write_collection(tmp / "seeds")
    service = fast_service(fast_settings(tmp, seeds_dir=seeds))
    summary = service.rebuild()
    assert summary.articles == 5, summary.line()
    return service


def test_the_chief_executive_is_the_one_in_office_at_the_time_asked(timeline):
    before = timeline.answer(CEO_QUESTION, as_of="2023-06-01")
    assert not before.refused
    assert sources(before) and all(s == "northwind-2023.txt" for s in sources(before))
    assert FIRST_CEO in before.answer and SECOND_CEO not in before.answer

    after = timeline.answer(CEO_QUESTION, as_of="2024-06-01")
    assert sources(after)[0] == "northwind-2024.txt"
    assert SECOND_CEO in after.answer


def test_a_question_naming_a_month_cites_that_month(timeline):
    answer = timeline.answer(MARCH_2024_QUESTION, as_of="2024-11-27")
    assert sources(answer)[0] == "northwind-2024.txt"
    assert "northwind-2023.txt" not in sources(answer)  # published before the window


def test_nothing_published_after_the_question_is_retrieved_cited_or_listed(timeline):
    answer = timeline.answer(CEO_QUESTION, as_of="2023-06-01")
    seen = sources(answer) + [a.source for a in answer.nearby]
    assert not {"northwind-2024.txt", "northwind-factory.txt"} & set(seen)


@pytest.fixture(params=BOTH_TIERS)
def either_timeline(request, tmp_path):
    """The timeline collection over the fakes, or indexed with MiniLM into embedded Chroma."""
    if request.param == "fake":
        return request.getfixturevalue("timeline")
    from rag.service import RagService
    from tests.conftest import make_settings

    service = RagService(make_settings(tmp_path, seeds_dir=write_collection(tmp_path / "seeds")))
    assert service.rebuild().articles == 5
    return service


def test_a_question_asked_before_any_article_is_refused(either_timeline):
    answer = either_timeline.answer(CEO_QUESTION, as_of="2020-01-01")
    assert answer.refused and not answer.citations and not answer.nearby


def test_a_date_filter_and_the_as_of_time_the_tighter_bound_wins(timeline):
    from rag.models import Filters

    answer = timeline.answer(CEO_QUESTION, as_of="2024-06-01",
                             filters=Filters(published_before="2023-12-31"))
    assert sources(answer) and set(sources(answer)) == {"northwind-2023.txt"}
    answer = timeline.answer(CEO_QUESTION, as_of="2023-06-01",
                             filters=Filters(published_before="2024-12-31"))
    assert set(sources(answer)) == {"northwind-2023.txt"}


def test_a_syndicated_copy_is_never_a_second_source_and_is_listed_as_a_copy(timeline):
    answer = timeline.answer(SEED_QUESTION, top_k=10)
    assert not answer.refused
    cited = {c.article_id for c in answer.citations}
    assert len(cited) == 1, sources(answer)
    first = answer.citations[0]
    assert [copy.source for copy in first.also_in] == (
        [SYNDICATED_NAME] if first.source != SYNDICATED_NAME else [next(SEEDS.glob("*.txt")).name])


def test_a_copy_is_never_two_of_the_top_results(timeline):
    snapshot = timeline.refresh()
    collection = timeline.store.collection(snapshot.name)
    from rag.answer.retrieval import RetrievalRequest

    vector = timeline.embedder.embed([SEED_QUESTION])[0]
    found = timeline.retriever.retrieve(snapshot, collection, RetrievalRequest(
        SEED_QUESTION, vector, 10, None, datetime.now(timezone.utc)))
    top = [a.source for a in found.articles[:5]]
    assert SYNDICATED_NAME in top or next(SEEDS.glob("*.txt")).name in top
    stories = [snapshot.story_of(a.article_id) for a in found.articles[:5]]
    assert len(stories) == len(set(stories)), top


def test_folding_can_be_switched_off(timeline):
    unfolded = fast_service(timeline.settings.model_copy(update={"fold_copies": False}),
                            store=timeline.store, embedder=timeline.embedder)
    answer = unfolded.answer(SEED_QUESTION, top_k=10)
    assert len({c.article_id for c in answer.citations}) >= 1
    assert all(not c.also_in for c in answer.citations)


@pytest.mark.parametrize("question, start, end, explicit", [
    ("Who won in March 2024?", "2024-03-01", "2024-03-31", True),
    ("What was the inflation rate in 2022?", "2022-01-01", "2022-12-31", True),
    ("Who resigned yesterday?", "2024-11-26", "2024-11-26", True),
    ("What happened last week in Paris?", "2024-11-18", "2024-11-24", True),
    ("What did the court rule on November 20?", "2024-11-20", "2024-11-20", True),
    ("Which shares have risen since June?", "2024-06-01", "2024-11-27", True),
    ("Which country had its hottest day this week?", "2024-11-20", "2024-11-27", False),
])
def test_times_named_in_questions_become_windows(question, start, end, explicit):
    window = read_question_time(question, AS_OF).window
    assert window is not None and window.explicit is explicit
    day = lambda stamp: datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d")  # noqa: E731
    assert (day(window.start), day(window.end)) == (start, end)


@pytest.mark.parametrize("question", [
    "Who may win the election?", "How did the march on Washington go?",
    "Which show had the most nominations for the 2022 Emmy Awards?", "Who scored 2 goals?",
    "Who is the chief executive of Acme?",
])
def test_words_that_only_look_like_dates_name_no_window(question):
    assert read_question_time(question, AS_OF).window is None


def test_questions_about_the_current_state_ask_for_recency():
    assert read_question_time("Who is the chief executive of Acme?", AS_OF).wants_latest
    assert read_question_time("What is the latest on the strike?", AS_OF).wants_latest
    assert not read_question_time("How did the Acme strike of 1998 end?", AS_OF).wants_latest


class _Snapshot:
    def __init__(self, published):
        self.published_ts = np.array(published, dtype=np.float64)


def _recency(published, question="What happened?"):
    ctx = StageContext(_Snapshot(published), None, question, np.zeros(2), [], None, None, 10,
                       read_question_time(question, AS_OF))
    stage = RecencyStage(weight=0.3, half_life_days=14, latest_boost=2)
    return stage, ctx, stage.score(ctx, np.arange(len(published)))


def test_recency_is_neutral_for_undated_articles_and_silent_without_dates():
    day = 86400.0
    now = AS_OF.timestamp()
    _, _, scores = _recency([now - day, now - 60 * day, np.nan])
    assert scores[0] > scores[1]
    assert scores[1] <= scores[2] <= scores[0]  # undated: in the middle of the dated ones
    assert _recency([np.nan, np.nan])[2] is None  # a collection without dates: no signal
    # and a signal that says nothing takes no part: the fusion is that of the others alone
    others = [np.array([0.2, 0.9]), np.array([3.0, 1.0])]
    assert np.allclose(fuse(others + [None], [0.3, 0.7, 0.5], [False, False, True]),
                       fuse(others, [0.3, 0.7], [False, False]))


def test_recency_weighs_more_when_the_question_asks_for_the_current_state():
    stage, plain, _ = _recency([AS_OF.timestamp()], "What happened to Acme?")
    _, latest, _ = _recency([AS_OF.timestamp()], "Who is the chief executive of Acme?")
    assert stage.weight_for(latest) == 2 * stage.weight_for(plain)


@pytest.mark.parametrize("as_of", AFTER_THE_FACTORY)
def test_now_is_the_newest_chief_executive_however_long_ago(timeline, as_of):
    answer = timeline.answer(NOW_CEO_QUESTION, as_of=as_of)
    assert not answer.refused and sources(answer)[0] == "northwind-2024.txt", sources(answer)
    assert SECOND_CEO in answer.answer


@pytest.mark.parametrize("as_of", AFTER_THE_FACTORY)
def test_the_latest_news_is_the_newest_article_on_the_subject(timeline, as_of):
    answer = timeline.answer(LATEST_QUESTION, as_of=as_of)
    assert not answer.refused and sources(answer)[0] == "northwind-factory.txt", sources(answer)


def test_a_year_the_question_names_weighs_and_never_hides_the_answer(timeline):
    answer = timeline.answer(FORECAST_QUESTION, as_of="2026-12-07")
    assert not answer.refused
    assert FORECAST_ANSWER in answer.answer
    assert sources(answer)[0] in {next(SEEDS.glob("*.txt")).name, SYNDICATED_NAME}


def test_a_refused_dated_question_still_lists_the_nearest_articles(timeline):
    answer = timeline.answer(UNCOVERED_DATED_QUESTION, as_of="2026-12-07")
    assert answer.refused and not answer.citations
    assert answer.nearby
