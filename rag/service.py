"""The one service layer under the CLI, the HTTP API and the web chat: holds the serving index
generation, answers questions, and runs rebuilds."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from rag import condense, generation as gen, llm as llm_mod
from rag.answering import Event, extractive_answer, llm_answer, refusal
from rag.config import Settings, get_settings
from rag.embedding import get_embedder
from rag.indexing import BuildSummary, RebuildInProgress, rebuild
from rag.models import Answer, Turn
from rag.retrieval import Filters, retrieve
from rag.store import Store, StoreUnavailable
from rag.suggestions import example_questions
from rag.uploads import UploadResult, save_uploads

log = logging.getLogger(__name__)
POINTER_CHECK_INTERVAL_S = 2.0
CONDENSE_TIMEOUT_S = 10.0


class BadQuestion(ValueError):
    pass


class IndexNotReady(RuntimeError):
    pass


@dataclass
class RebuildState:
    state: str = "idle"  # idle | running | failed
    stage: str = ""
    done: int = 0
    total: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    last_summary: dict | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def public(self) -> dict:
        return {k: getattr(self, k) for k in
                ("state", "stage", "done", "total", "started_at", "finished_at", "error", "last_summary")}


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


class RagService:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self._store: Store | None = None
        self._generation: gen.Generation | None = None
        self._pointer = None
        self._checked_at = 0.0
        self._reload_lock = threading.Lock()
        self._llm = llm_mod.LlmClient(self.settings) if llm_mod.configured(self.settings) else None
        self.rebuild_state = RebuildState()
        self.warm = False

    # --- index state -------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    def refresh(self, force: bool = False) -> gen.Generation | None:
        """The serving generation, switching to a newer one when the pointer has moved (a rebuild
        here, or by another worker). Requests already running keep the one they started with."""
        now = time.monotonic()
        if not force and self._generation is not None and now - self._checked_at < POINTER_CHECK_INTERVAL_S:
            return self._generation
        if not self._reload_lock.acquire(blocking=self._generation is None or force):
            return self._generation  # another thread is loading; serve the current one meanwhile
        try:
            try:
                pointer = self.store.current()
            except Exception as exc:
                self._store = None
                raise StoreUnavailable(f"index store unavailable: {exc}") from exc
            self._checked_at = time.monotonic()
            if pointer is None:
                return self._generation
            if self._generation is None or pointer.generation != self._generation.name:
                self._generation = gen.load(self.settings.index_dir, pointer.generation,
                                            pointer.fingerprint, self.store.collection)
                self._pointer = pointer
                log.info("serving index generation %s (%d chunks)", pointer.generation,
                         len(self._generation))
            return self._generation
        finally:
            self._reload_lock.release()

    def status(self) -> dict:
        generation = self._generation
        pointer = self._pointer
        return {
            "ready": generation is not None,
            "articles": len(generation.articles) if generation else 0,
            "chunks": len(generation) if generation else 0,
            "generation": generation.name if generation else None,
            "built_at": pointer.built_at if pointer else None,
            "last_build": pointer.summary.get("line") if pointer else None,
            "store": self.store.location if self._store else None,
            "llm": self.settings.llm_model if self._llm else None,
            "rebuild": self.rebuild_state.public(),
        }

    def articles(self) -> list[gen.ArticleEntry]:
        generation = self.refresh()
        return list(generation.articles.values()) if generation else []

    def example_questions(self, limit: int = 4) -> list[str]:
        try:
            return example_questions(self.articles(), limit)
        except StoreUnavailable:
            return []

    def add_articles(self, files: list[tuple[str, Path]], overwrite: bool = False) -> UploadResult:
        """Save uploaded article files into the seeds folder (a rebuild picks them up)."""
        return save_uploads(self.settings.seeds_dir, files, overwrite)

    # --- answering ---------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> np.ndarray:
        return get_embedder(self.settings).embed(texts)

    def warm_up(self) -> None:
        """Load the embedder now rather than on the first question."""
        embedder = get_embedder(self.settings)
        embedder.embed(["warm up"])
        embedder.quick(["warm up"])
        self.warm = True

    def standalone_question(self, question: str, history: list[Turn]) -> str:
        if not history or not condense.is_follow_up(question):
            return question
        if self._llm is not None:
            try:
                rewritten = self._llm.complete(llm_mod.condense_messages(history, question),
                                               timeout_s=min(CONDENSE_TIMEOUT_S, self.settings.llm_timeout_s))
                rewritten = rewritten.strip().strip('"')
                if 3 <= len(rewritten) <= 4 * len(question) + 200:
                    return rewritten
            except llm_mod.LlmError as exc:
                log.warning("condensing with the LLM failed (%s); using the rule-based rewrite", exc)
        return condense.rewrite(question, history)

    def refusal_threshold(self, generation: gen.Generation) -> float:
        return (self.settings.min_relevance
                + self.settings.relevance_per_decade * math.log10(max(len(generation), 1)))

    def validate(self, question: object) -> str:
        if not isinstance(question, str):
            raise BadQuestion("question must be a string")
        question = question.strip()
        if not question:
            raise BadQuestion("question is empty")
        if len(question) > self.settings.max_question_chars:
            raise BadQuestion(f"question is longer than {self.settings.max_question_chars} characters")
        return question

    def stream(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               filters: Filters | None = None) -> Iterator[Event]:
        """Events: 'delta' (text to append), 'reset' (discard the text so far: the LLM answer
        was replaced), and finally 'answer' with the whole Answer."""
        started = time.perf_counter()
        question = self.validate(question)
        history = history or []
        generation = self.refresh()
        if generation is None:
            raise IndexNotReady("the index is not built yet")
        timings: dict[str, float] = {}
        step = time.perf_counter()
        query = self.standalone_question(question, history)
        timings["condense_ms"] = _ms(step)
        step = time.perf_counter()
        query_vector = self.embed([query])[0]
        timings["embed_ms"] = _ms(step)
        step = time.perf_counter()
        k = max(1, min(top_k or self.settings.top_k, 20))
        try:
            collection = self.store.collection(generation.name)
        except Exception as exc:
            self._store = None
            raise StoreUnavailable(f"index store unavailable: {exc}") from exc
        found = retrieve(generation, collection, query, query_vector, k, self.settings.candidates,
                         self.settings.dense_weight, filters, self.settings.article_weight)
        timings["retrieve_ms"] = _ms(step)

        def extract(reason: str | None = None) -> Iterator[Event]:
            mode = "extractive-fallback" if reason else "extractive"
            yield from extractive_answer(found, get_embedder(self.settings).quick,
                                         self.settings.answer_sentences, timings, mode, reason,
                                         focus=question)

        if not found.passages or found.relevance < self.refusal_threshold(generation):
            events = refusal(found, timings)
        elif self._llm is not None:
            events = llm_answer(self._llm, query, found, extract, timings)
        else:
            events = extract()
        for event in events:
            if event["event"] == "answer":
                event["answer"].timings["total_ms"] = _ms(started)
                event["retrieval"] = found  # for evaluation: the whole ranking, not only citations
            yield event

    def answer(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               filters: Filters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, top_k, filters):
            if event["event"] == "answer":
                final = event["answer"]
        return final

    # --- rebuilding --------------------------------------------------------------------------

    def rebuild(self, seeds: Path | None = None, show_bar: bool = False) -> BuildSummary:
        """Run an incremental rebuild now; the new generation serves as soon as it is complete."""
        if not self.rebuild_state.lock.acquire(blocking=False):
            raise RebuildInProgress("a rebuild is already running")
        return self._rebuild_holding_lock(seeds, show_bar)

    def _rebuild_holding_lock(self, seeds: Path | None, show_bar: bool = False) -> BuildSummary:
        state = self.rebuild_state
        try:
            state.state, state.error, state.started_at, state.finished_at = "running", None, time.time(), None
            state.stage, state.done, state.total = "starting", 0, 0

            def progress(stage: str, done: int, total: int) -> None:
                state.stage, state.done, state.total = stage, done, total

            try:
                summary = rebuild(self.settings, seeds, progress=progress, show_bar=show_bar,
                                  store=self.store)
            except BaseException as exc:
                state.state, state.error = "failed", f"{type(exc).__name__}: {exc}"
                raise
            state.state, state.last_summary = "idle", {**summary.as_dict(), "line": summary.line()}
            self.refresh(force=True)
            return summary
        finally:
            state.finished_at = time.time()
            state.lock.release()

    def start_rebuild(self, seeds: Path | None = None) -> None:
        """Start a rebuild in a background thread; RebuildInProgress if one is running."""
        if not self.rebuild_state.lock.acquire(blocking=False):
            raise RebuildInProgress("a rebuild is already running")
        self.rebuild_state.state = "running"

        def run() -> None:
            try:
                self._rebuild_holding_lock(seeds)
            except Exception:
                log.exception("background rebuild failed")

        threading.Thread(target=run, daemon=True, name="rebuild").start()

