"""Recency stage: how well an article's date fits the time of the question. News questions are
mostly about the days just before they are asked; a question that names a time ("in March
2024", "last week") is about that window, and articles after it (looking back on it) count
less the later they are. Undated articles get the middle of the dated candidates' scores, so the
stage neither lifts nor sinks them; a collection without dates gets no signal at all.

The fit halves at `half_life_days` and then falls off as a hyperbola, not an exponential: an
exponential flattens every article older than a few half-lives to zero, and "who is the chief
executive" asked a year on must still prefer the newer of two old articles.

A question about the current state or the latest news ("who is the chief executive now?", "the
latest on Acme") is answered by the newest article on its subject, however old: its fit is
re-read once the other stages have said which candidates are on the subject, as the place of
each article's date between the oldest and the newest of those (1 for the newest), not as its
distance from the moment of asking."""

from __future__ import annotations

import numpy as np

from rag.answer.question_dates import DAY
from rag.answer.stages.base import Stage, StageContext

# Articles published after a window the question names: a retrospective a month later still
# counts half.
AFTER_WINDOW_HALF_LIFE_DAYS = 30.0
# "Now" and "latest": a candidate is on the question's subject when the other stages score it, on
# average, at least this share of their best candidate's score (set once, not tuned).
ON_SUBJECT_SHARE = 0.5


def fit(distance_s: np.ndarray, half_life_s: float) -> np.ndarray:
    return 1.0 / (1.0 + distance_s / half_life_s)


class RecencyStage(Stage):
    name = "recency"
    scaled = True  # 0..1 already: min-max would blow up the differences among old articles

    def __init__(self, weight: float, half_life_days: float, latest_boost: float):
        super().__init__(weight)
        self.half_life_s = half_life_days * DAY
        self.latest_boost = latest_boost

    def weight_for(self, ctx: StageContext) -> float:
        time = ctx.time
        return self.weight * (self.latest_boost if time is not None and time.wants_latest else 1.0)

    def score(self, ctx: StageContext, rows: np.ndarray) -> np.ndarray | None:
        if ctx.time is None:
            return None
        published = ctx.snapshot.published_ts[rows]
        dated = ~np.isnan(published)
        if not dated.any():
            return None
        window = ctx.time.window
        end = window.end if window else ctx.time.as_of
        start = window.start if window and window.start is not None else end
        before = np.clip(start - published[dated], 0, None)
        after = np.clip(published[dated] - end, 0, None)
        fits = fit(before, self.half_life_s) * fit(after, AFTER_WINDOW_HALF_LIFE_DAYS * DAY)
        scores = np.full(rows.shape, float(np.median(fits)), dtype=np.float32)
        scores[dated] = fits
        return scores

    def refine(self, ctx: StageContext, rows: np.ndarray, relevance) -> np.ndarray | None:
        time = ctx.time
        # A period the question names ("the latest on Acme in March 2024", "before May 2023")
        # decides by itself: only an open "now" looks for the newest article on the subject.
        if (time is None or not time.wants_current
                or (time.window is not None and (time.window.explicit or time.window_as_weight))):
            return None
        published = ctx.snapshot.published_ts[rows]
        dated = ~np.isnan(published)
        others = relevance()
        if others is None or not dated.any():
            return None
        on_subject = dated & (others >= ON_SUBJECT_SHARE * float(others.max()))
        if not on_subject.any():
            return None
        newest, oldest = float(published[on_subject].max()), float(published[on_subject].min())
        span = max(newest - oldest, DAY)
        # Off-subject articles newer than the newest on the subject gain nothing by it.
        fits = np.clip(1.0 - (newest - np.minimum(published[dated], newest)) / span, 0.0, 1.0)
        scores = np.full(rows.shape, float(np.median(fits)), dtype=np.float32)
        scores[dated] = fits
        return scores
