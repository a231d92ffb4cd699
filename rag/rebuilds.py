"""Rebuilds run by the service: one at a time, in the foreground or a background thread, with a
state the front ends can show (stage, progress, error, last summary)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError, RebuildInProgress
from rag.index.build import BuildSummary, build

log = logging.getLogger(__name__)


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


class Rebuilds:
    def __init__(self, service):
        self.service = service
        self.state = RebuildState()
        # Files named for a rebuild that could not start (one was running, which may not read
        # them): the next rebuild that names files reads these too. A whole scan reads them anyway.
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()

    def _acquire(self, changed: list[str] | None) -> list[str] | None:
        """The rebuild lock, and the files the rebuild is to read (None: the whole folder)."""
        if not self.state.lock.acquire(blocking=False):
            if changed:
                with self._pending_lock:
                    self._pending.update(changed)
            raise RebuildInProgress()
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        return None if changed is None else list(dict.fromkeys([*changed, *sorted(pending)]))

    def run(self, seeds: Path | None = None, show_bar: bool = False, serve: bool = True,
            confirm_removal: bool = False, changed: list[str] | None = None) -> BuildSummary:
        changed = self._acquire(changed)
        return self._run_holding_lock(seeds, show_bar, serve, confirm_removal, changed)

    def start(self, seeds: Path | None = None, confirm_removal: bool = False,
              changed: list[str] | None = None) -> None:
        changed = self._acquire(changed)
        self.state.state = "running"

        def run() -> None:
            try:
                self._run_holding_lock(seeds, confirm_removal=confirm_removal, changed=changed)
            except RagError as exc:  # the index is unchanged: say why, without a traceback
                log.error("rebuild stopped: %s", exc)
            except Exception:
                log.exception("background rebuild failed")

        threading.Thread(target=run, daemon=True, name="rebuild").start()

    def _run_holding_lock(self, seeds: Path | None, show_bar: bool = False,
                          serve: bool = True, confirm_removal: bool = False,
                          changed: list[str] | None = None) -> BuildSummary:
        state, service = self.state, self.service
        try:
            state.state, state.error, state.started_at, state.finished_at = "running", None, time.time(), None
            state.stage, state.done, state.total = "starting", 0, 0

            def progress(stage: str, done: int, total: int) -> None:
                state.stage, state.done, state.total = stage, done, total

            try:
                # The update derives from the snapshot this server holds (not a second copy
                # read from disk) and the result serves as it is (not a third).
                summary, built = build(service.settings, seeds, progress=progress,
                                       show_bar=show_bar, store=service.store,
                                       embedder=service.embedder, serving=service.serving,
                                       confirm_removal=confirm_removal, changed=changed)
            except BaseException as exc:
                # A product error is already in a user's words; anything else names its type.
                state.state = "failed"
                state.error = str(exc) if isinstance(exc, RagError) else f"{type(exc).__name__}: {exc}"
                raise
            state.last_summary = {**summary.as_dict(), "line": summary.line()}
            if serve and built is not None:
                # Serve the new snapshot before saying the rebuild is done: a client that sees
                # "idle" must also see the new index's articles.
                service.serve(built)
            state.state = "idle"
            return summary
        finally:
            state.finished_at = time.time()
            state.lock.release()
