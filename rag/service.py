"""The one service layer under the CLI, the HTTP API and the web chat: holds the serving index
snapshot, answers questions, and runs rebuilds.

Its parts (store, embedder, LLM client, ranking stages, refusal policy) are passed in, with the
product's defaults when left out: a test hands it in-process fakes, a deployment swaps a part."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from rag.answer import condense, question_dates
from rag.answer import llm as llm_mod
from rag.answer.policy import Retrieved
from rag.answer.refusal import RefusalPolicy
from rag.answer.retrieval import RetrievalRequest, Retriever
from rag.answer.stages import RankingStage
from rag.answer.suggestions import example_questions
from rag.config import MAX_HISTORY_TURNS, TOP_K_MAX, TOP_K_MIN, Settings, get_settings
from rag.conversations.recording import recorded
from rag.errors import (BadQuestion, EmbedderUnavailable, IndexMismatch, IndexNotReady, LlmError,
                        RagError, StoreUnavailable)
from rag.index import snapshot as snap, snapshot_files
from rag.memory import map_large_blocks, release_freed_memory
from rag.index.build import BuildSummary, fingerprint_embedder
from rag.index.embedding import Embedder, get_embedder
from rag.index.store import Store
from rag.ingest.changed_files import source_of
from rag.ingest.uploads import UploadResult, save_uploads
from rag.models import Answer, AnswerEvent, Filters, Final, Turn, new_id, parse_as_of
from rag.parts import DEFAULT, build_parts
from rag.rebuilds import Rebuilds

log = logging.getLogger(__name__)
POINTER_CHECK_INTERVAL_S = 2.0
CONDENSE_TIMEOUT_S = 10.0
# A rewritten follow-up shorter than this is no question; one far longer than the question (and
# the subject it gains from the history) is the model answering instead of rewriting.
MIN_REWRITE_CHARS = 3


def max_rewrite_chars(question: str) -> int:
    return 4 * len(question) + 200


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _remembered(embed: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """`embed` that computes each text once: the gate and the extractive answer score the same
    sentences of one retrieval (with an embeddings server, one request instead of two)."""
    known: dict[str, np.ndarray] = {}

    def vectors(texts: list[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            known.update(zip(missing, embed(missing)))
        return np.stack([known[text] for text in texts]) if texts else embed(texts)
    return vectors


def _final(events: Iterator[AnswerEvent]) -> Answer:
    final = None
    for event in events:
        if isinstance(event, Final):
            final = event.answer
    return final


class RagService:
    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 embedder: Embedder | None = None, llm=DEFAULT,
                 stages: list[RankingStage] | None = None, refusal_policy: RefusalPolicy | None = None):
        """The parts given replace the product's defaults (rag.parts.build_parts). `llm`: an
        object with `stream(messages, timeout_s)` and `complete(...)` (see
        rag.answer.llm.LlmClient), None for extractive answers only; by default the configured
        OpenAI-compatible server, if any."""
        self.settings = settings or get_settings()
        map_large_blocks()  # per-question arrays as large as the archive: not left in the heap
        parts = build_parts(self.settings, store=store, embedder=embedder, llm=llm, stages=stages,
                            refusal_policy=refusal_policy)
        self._store = parts.store
        self._own_store = store is None  # a store we made may be dropped and made again
        self._embedder = parts.embedder
        self._llm = parts.llm
        self.retriever = Retriever(parts.stages, self.settings.candidates,
                                   self.settings.question_dates, self.settings.fold_copies)
        self.refusal_policy = parts.refusal_policy
        self.answer_policy = parts.answer_policy
        self._snapshot: snap.Snapshot | None = None
        self._pointer = None
        self._checked_at = 0.0
        self._reload_lock = threading.Lock()
        self.rebuilds = Rebuilds(self)
        # Opened (and migrated) on first use: the CLI's answers and the eval never touch it.
        self.conversations = parts.conversations
        self.warm = False

    # --- parts ---------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    @property
    def embedder(self) -> Embedder:
        # Made once, on first use: loading the model is slow, and an embeddings-server client
        # learns its vectors' width from its first answer.
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    def _store_failed(self, exc: Exception) -> StoreUnavailable:
        if self._own_store:
            self._store = None  # reconnect on the next request
        if isinstance(exc, StoreUnavailable):
            return exc
        return StoreUnavailable(f"the index store is unavailable: {exc}")

    # --- index state -------------------------------------------------------------------------

    @property
    def rebuild_state(self):
        return self.rebuilds.state

    def refresh(self, force: bool = False) -> snap.Snapshot | None:
        """The serving snapshot, switching to a newer one when the pointer has moved (a rebuild
        here, or by another worker). Requests already running keep the one they started with."""
        now = time.monotonic()
        if not force and self._snapshot is not None and now - self._checked_at < POINTER_CHECK_INTERVAL_S:
            return self._snapshot
        if not self._reload_lock.acquire(blocking=self._snapshot is None or force):
            return self._snapshot  # another thread is loading; serve the current one meanwhile
        try:
            try:
                pointer = self.store.current()
            except Exception as exc:
                raise self._store_failed(exc) from exc
            self._checked_at = time.monotonic()
            if pointer is None:
                return self._snapshot
            if self._snapshot is None or pointer.snapshot != self._snapshot.name:
                try:
                    # A snapshot derived from the one served is read as that one's update.
                    loaded = snapshot_files.load(
                        self.settings.index_dir, pointer.snapshot, pointer.fingerprint,
                        self.store.collection, pointer.seq, pointer.collection, have=self._snapshot)
                except Exception as exc:  # the collection vanished, or the server went away
                    raise self._store_failed(exc) from exc
                self.serve(loaded, pointer)
            elif self._pointer != pointer:
                self._pointer = pointer  # the same snapshot, another summary
            return self._snapshot
        finally:
            self._reload_lock.release()

    @property
    def serving(self) -> snap.Snapshot | None:
        return self._snapshot

    def serve(self, snapshot: snap.Snapshot, pointer=None) -> None:
        """Serve `snapshot` from now on (one that a rebuild here has just made: no need to read
        it again)."""
        if pointer is None:
            try:
                pointer = self.store.current()
            except Exception:  # the snapshot is complete: the status only lacks the pointer's
                pointer = self._pointer
        self._snapshot, self._pointer = snapshot, pointer
        self._checked_at = time.monotonic()
        release_freed_memory()  # what loading or building it parsed and dropped
        log.info("serving index snapshot %s (%d chunks)", snapshot.name, len(snapshot))

    def status(self) -> dict:
        snapshot = self._snapshot
        pointer = self._pointer
        return {
            "ready": snapshot is not None,
            "articles": len(snapshot.articles) if snapshot else 0,
            "chunks": len(snapshot) if snapshot else 0,
            "snapshot": snapshot.name if snapshot else None,
            "built_at": pointer.built_at if pointer else None,
            "last_build": pointer.summary.get("line") if pointer else None,
            "store": self.store.location if self._store else None,
            "llm": self.settings.llm_model if self._llm else None,
            "rebuild": self.rebuild_state.public(),
        }

    def articles(self) -> list[snap.ArticleEntry]:
        snapshot = self.refresh()
        return list(snapshot.articles.values()) if snapshot else []

    def example_questions(self, limit: int = 4) -> list[str]:
        try:
            return example_questions(self.articles(), limit)
        except StoreUnavailable:
            return []

    def add_articles(self, files: list[tuple[str, Path]], overwrite: bool = False) -> UploadResult:
        """Save uploaded article files into the seeds folder (a rebuild picks them up)."""
        return save_uploads(self.settings.seeds_dir, files, overwrite)

    # --- answering ---------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the embedder now rather than on the first question."""
        embedder = self.embedder
        embedder.embed(["warm up"])
        embedder.quick(["warm up"])
        question_dates.warm_up()
        try:
            self.conversations.open()
        except RagError as exc:  # answers still go out, without being kept; the log says why
            log.error("%s", exc)
        self.warm = True

    def standalone_question(self, question: str, history: list[Turn]) -> str:
        if not history or not condense.is_follow_up(question):
            return question
        if self._llm is not None:
            try:
                rewritten = self._llm.complete(llm_mod.condense_messages(history, question),
                                               timeout_s=min(CONDENSE_TIMEOUT_S, self.settings.llm_timeout_s))
                rewritten = rewritten.strip().strip('"')
                if MIN_REWRITE_CHARS <= len(rewritten) <= max_rewrite_chars(question):
                    return rewritten
            except LlmError as exc:
                log.warning("condensing with the LLM failed (%s); using the rule-based rewrite", exc)
        return condense.rewrite(question, history)

    def validate(self, question: object) -> str:
        if not isinstance(question, str):
            raise BadQuestion("question must be a string")
        question = question.strip()
        if not question:
            raise BadQuestion("question is empty")
        if len(question) > self.settings.max_question_chars:
            raise BadQuestion(f"question is longer than {self.settings.max_question_chars} characters")
        return question

    def check_vector_space(self, snapshot: snap.Snapshot | None = None) -> None:
        """A question embedded by another model than the index's would be compared with vectors
        of another space (or width): say so plainly instead of failing inside the store."""
        snapshot = snapshot or self._snapshot
        if snapshot is None:
            return
        built_with = fingerprint_embedder(snapshot.fingerprint)
        if built_with and built_with != self.embedder.name:
            raise IndexMismatch(f"the serving index was built with the embedder '{built_with}', and "
                                f"this server embeds with '{self.embedder.name}': rebuild the index "
                                "(rag index) or set RAG_EMBED_MODEL / RAG_EMBED_BASE_URL back")

    def top_k(self, requested: int | None) -> int:
        return max(TOP_K_MIN, min(requested or self.settings.top_k, TOP_K_MAX))

    def stream(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               filters: Filters | None = None, as_of: str | datetime | None = None) -> Iterator[AnswerEvent]:
        """Events (rag.models): Delta (text to append), Reset (discard the text so far: the LLM
        answer was replaced), and finally Final with the whole Answer.

        `as_of`: the moment the question is asked (now when None; see models.parse_as_of).
        Articles published after it do not exist for this question."""
        started = time.perf_counter()
        yield from self.answer_events(self.retrieve(question, history, top_k, filters, as_of), started)

    def answer_events(self, retrieved: Retrieved, started: float) -> Iterator[AnswerEvent]:
        """The answer policy's events for what `retrieve` found; the answer's `total_ms` counts
        from `started` (a perf_counter reading taken before retrieving)."""
        for event in self.answer_policy.events(retrieved):
            if isinstance(event, Final):
                event.answer.timings["total_ms"] = _ms(started)
            yield event

    def retrieve(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
                 filters: Filters | None = None, as_of: str | datetime | None = None) -> Retrieved:
        """What is found for a question and whether it is answered: the step before the answer
        (`stream` is this, then the answer policy); benchmarks and the evaluation call it to
        read the ranking and the gate."""
        question = self.validate(question)
        asked_at = parse_as_of(as_of)  # a bad time or date fails before any work starts
        if filters is not None:
            filters.bounds()
        snapshot = self.refresh()
        if snapshot is None:
            raise IndexNotReady()
        self.check_vector_space(snapshot)
        timings: dict[str, float] = {}
        step = time.perf_counter()
        query = self.standalone_question(question, history or [])
        timings["condense_ms"] = _ms(step)
        step = time.perf_counter()
        try:
            query_vector = self.embedder.embed([query])[0]
        except Exception as exc:  # a model that failed to load, an embeddings server that is down
            raise EmbedderUnavailable(f"the embedder is unavailable: {type(exc).__name__}: {exc}") from exc
        timings["embed_ms"] = _ms(step)
        step = time.perf_counter()
        try:
            collection = self.store.collection(snapshot.collection_name)
        except Exception as exc:
            raise self._store_failed(exc) from exc
        # Timed with the search: the relevance signal is part of deciding what was found.
        quick = _remembered(self.embedder.quick)
        found, decision = self._retrieve_decided(
            snapshot, collection, RetrievalRequest(query, query_vector, self.top_k(top_k), filters,
                                                   asked_at), quick)
        timings["retrieve_ms"] = _ms(step)
        return Retrieved(question, query, found, decision, quick, self.embedder.embed, timings)

    def _retrieve_decided(self, snapshot, collection, request: RetrievalRequest, quick):
        """What was found and whether it answers. A window the question names ("in 2026")
        excludes older articles only when something inside it answers; otherwise the question
        is asked again with the window weighing them, so a forecast in last year's article can
        answer, and a refusal still lists the nearest articles."""
        found = self.retriever.retrieve(snapshot, collection, request)
        decision = self.refusal_policy.decide(found, snapshot, quick)
        if decision.refuse and found.window_cut:
            found = self.retriever.retrieve(snapshot, collection,
                                            dataclasses.replace(request, window_excludes=False))
            decision = self.refusal_policy.decide(found, snapshot, quick)
        return found, decision

    def answer(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               filters: Filters | None = None, as_of: str | datetime | None = None) -> Answer:
        return _final(self.stream(question, history, top_k, filters, as_of))

    # --- conversations -----------------------------------------------------------------------

    def converse(self, question: str, conversation_id: str | None = None,
                 history: list[Turn] | None = None, top_k: int | None = None,
                 filters: Filters | None = None, as_of: str | datetime | None = None,
                 answer_id: str | None = None) -> Iterator[AnswerEvent]:
        """`stream`, with the turn kept in its conversation (a new one when `conversation_id` is
        None): the answer carries `answer_id` and `conversation_id`. A continued conversation's
        history is the stored one (the request's `history` only when it has none yet);
        ConversationNotFound at once for an unknown id."""
        question = self.validate(question)  # bad input fails here, before any work
        asked_at = parse_as_of(as_of)  # kept with the turn
        if conversation_id is not None:
            history = self.conversations.history(conversation_id, MAX_HISTORY_TURNS) or history
        events = self.stream(question, history, top_k, filters, as_of)
        return recorded(self.conversations, events, conversation_id, question, asked_at,
                        answer_id or new_id())

    def converse_answer(self, *args, **kwargs) -> Answer:
        return _final(self.converse(*args, **kwargs))

    # --- rebuilding --------------------------------------------------------------------------

    def rebuild(self, seeds: Path | None = None, show_bar: bool = False, serve: bool = True,
                confirm_removal: bool = False, changed: list[str] | None = None) -> BuildSummary:
        """Run an incremental rebuild now; with `serve`, the new snapshot serves as soon as it is
        complete (a one-shot `rag index` has nothing to serve). A missing seeds folder, or a
        rebuild that would remove most of the index without `confirm_removal`, changes nothing
        and raises (rag.index.build.check_seeds, check_removal). `changed`: the files known to
        have changed (rag.index.build.build)."""
        return self.rebuilds.run(seeds, show_bar, serve, confirm_removal,
                                 self._sources(seeds, changed))

    def start_rebuild(self, seeds: Path | None = None, confirm_removal: bool = False,
                      changed: list[str] | None = None) -> None:
        """Start a rebuild in a background thread; RebuildInProgress if one is running."""
        self.rebuilds.start(seeds, confirm_removal, self._sources(seeds, changed))

    def _sources(self, seeds: Path | None, changed: list[str] | None) -> list[str] | None:
        """The named files as sources under the seeds folder, checked before a rebuild starts:
        BadChangedFile (a 400) for one outside it or hidden."""
        seeds = seeds or self.settings.seeds_dir
        if changed is None or not Path(seeds).is_dir():
            return None  # a seeds file (or none): the whole of it is read, as without names
        return [source_of(seeds, str(name)) for name in changed]
