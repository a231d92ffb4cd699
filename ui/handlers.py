"""What the web chat does when its events fire. Every decision is the service's; these handlers
only turn its results and errors into chat messages, HTML and component updates."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import gradio as gr

from rag.access import may_change_index
from rag.errors import ConversationNotFound, RagError, RebuildInProgress
from rag.models import Delta, Filters, Final, Reset, Turn
from rag.service import RagService
from ui import render
from ui.conversations import ConversationHandlers, chat_message

EXAMPLE_SLOTS = 4
POLL_S = 0.5
DISABLED = ("Changing the index from the web page needs RAG_API_KEY when the server is reachable "
            "from the network: set it, and sign in to this page with it.")


class ChatHandlers:
    """The handlers share one service; whether a caller may change the index is decided per
    event by rag.access.may_change_index, the rule the API's rebuild route applies too."""

    def __init__(self, service: RagService, bind_host: str):
        self.service = service
        self.bind_host = bind_host
        self.conversations = ConversationHandlers(service)

    def may_change_index(self, request: gr.Request | None) -> bool:
        # Gradio names a caller only after its login, which takes the API key as the password
        # (ui.app); without a key set there is no login and no name.
        key_checked = request is not None and request.username is not None
        return may_change_index(self.service.settings, self.bind_host, key_checked=key_checked)

    # --- asking ------------------------------------------------------------------------------

    def respond(self, message, chat, turns, answer_ids, conversation, top_k, date_from, date_to,
                as_of=None) -> Iterator[tuple]:
        """Stream one answer into the chat and its sources into the side panel; the answer is
        kept in the open conversation (a new one when none is open)."""
        # `chat` holds rendered HTML; `turns` keeps the plain answers the service needs to
        # understand a follow-up question; `answer_ids` lines up with `chat` for the thumbs.
        chat, turns, answer_ids = list(chat or []), list(turns or []), list(answer_ids or [])
        message = (message or "").strip()
        if not message:
            yield gr.update(), chat, turns, gr.update(), answer_ids, conversation, gr.update()
            return
        # Show the question at once, before retrieval and the first token, which can take seconds.
        chat += [chat_message("user", render.message_html(message)), chat_message("assistant", "…")]
        answer_ids += [None, None]
        yield "", chat, turns, gr.update(), answer_ids, conversation, gr.update()
        # An empty date box means no bound, not a bad date.
        filters = Filters(published_after=date_from or None, published_before=date_to or None)
        history = [Turn(**t) for t in turns]
        text = ""
        try:
            # An empty "As of" box means now; the service reads None (or "") that way.
            for event in self.service.converse(message, conversation or None, history, int(top_k),
                                               filters, as_of=as_of or None):
                if isinstance(event, Delta):
                    text += event.text
                    chat[-1] = chat_message("assistant", f'<div class="answer">{render.linkify(text)}</div>')
                    yield "", chat, turns, gr.update(), answer_ids, conversation, gr.update()
                elif isinstance(event, Reset):
                    text = ""
                elif isinstance(event, Final):
                    answer = event.answer
                    chat[-1] = chat_message("assistant", render.answer_html(answer))
                    turns += [chat_message("user", message), chat_message("assistant", answer.answer)]
                    answer_ids[-1] = answer.answer_id
                    conversation = answer.conversation_id or conversation
                    yield ("", chat, turns, render.sources_html(answer), answer_ids, conversation,
                           self.conversations.listing(conversation))
        except ConversationNotFound:
            chat[-1] = chat_message("assistant", render.error_html(
                "This conversation was deleted: ask again to start a new one."))
            yield "", chat, [], gr.update(), answer_ids, None, self.conversations.listing()
        except RagError as exc:
            chat[-1] = chat_message("assistant", render.error_html(exc))
            yield "", chat, turns, gr.update(), answer_ids, conversation, gr.update()

    def ask(self, question: str, as_of: str | None = None) -> dict:
        """One whole answer as JSON: the endpoint for programs (gradio_client). `as_of`: the
        moment the question is asked (YYYY-MM-DD or an ISO time; default now)."""
        try:
            return self.service.converse_answer(question, as_of=as_of or None).model_dump()
        except RagError as exc:
            # gr.Error reaches the client as a message; any other exception only as "Error".
            raise gr.Error(str(exc)) from exc

    # --- page state --------------------------------------------------------------------------

    def on_load(self, conversation: str | None = None) -> list:
        """The index panel and example questions, per visit rather than when the page is built
        (a rebuild's new articles show without a restart), and the conversation that was open
        before the page was reloaded."""
        examples = self.service.example_questions(EXAMPLE_SLOTS)
        buttons = [gr.update(value=examples[i], visible=True) if i < len(examples)
                   else gr.update(visible=False) for i in range(EXAMPLE_SLOTS)]
        return [render.index_html(self.service.status()), *buttons,
                *self.conversations.open(conversation)]

    # --- changing the index ------------------------------------------------------------------

    def _start_rebuild(self, confirm_removal: bool = False, changed: list[str] | None = None) -> None:
        try:
            self.service.start_rebuild(confirm_removal=confirm_removal, changed=changed)
        except RebuildInProgress:
            pass  # only one rebuild runs at a time: follow the running one instead of failing

    def follow_rebuild(self) -> Iterator[tuple[str, str]]:
        """Progress of the running rebuild, then its summary. The rebuild runs in a background
        thread that reports no events, hence the polling."""
        while True:
            state = self.service.rebuild_state.public()
            yield render.rebuild_html(state), render.index_html(self.service.status())
            if state["state"] != "running":
                return
            time.sleep(POLL_S)

    def rebuild(self, confirm_removal: bool = False, request: gr.Request = None) -> Iterator[tuple]:
        """The rebuild's progress and the index panel; the removal box is cleared once used, so
        that one confirmed rebuild does not confirm the next ones too."""
        if not self.may_change_index(request):
            yield DISABLED, gr.update(), gr.update()
            return
        self._start_rebuild(bool(confirm_removal))
        for progress, index in self.follow_rebuild():
            yield progress, index, False

    def upload(self, files, overwrite, request: gr.Request = None) -> Iterator[tuple]:
        if not self.may_change_index(request):
            yield DISABLED, gr.update(), gr.update()
            return
        # Gradio keeps each upload under its original name inside a temporary folder.
        pairs = [(Path(f).name, Path(f)) for f in (files or [])]
        try:
            result = self.service.add_articles(pairs, overwrite=bool(overwrite))
        except OSError as exc:  # a full or read-only seeds folder: say so, keep the page working
            yield render.error_html(f"Could not save the files: {exc.strerror or exc}"), gr.update(), None
            return
        note = render.upload_html(result.saved, result.rejected)
        # Emptying the file picker keeps a second click from sending the same files again.
        if not result.saved:
            yield note, gr.update(), None
            return
        # Only the files just saved are read: an archive of millions is not listed for them.
        self._start_rebuild(changed=result.saved)
        for progress, index in self.follow_rebuild():
            yield f"{note}<br>{progress}", index, None
