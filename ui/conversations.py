"""The web chat's conversations and ratings: open, continue, start and delete stored
conversations, and rate answers with the chat's thumbs. Every decision and every write is the
service's (RagService.conversations); these handlers only shape what the page shows."""

from __future__ import annotations

import gradio as gr

from rag.errors import ConversationNotFound, RagError
from rag.lexicon import MONTH_ABBREVIATIONS
from rag.models import Answer, Citation
from rag.service import RagService
from ui import render

LIST_LIMIT = 50
THANKS = {"up": "Thanks: rated 👍", "down": "Thanks: rated 👎"}


def chat_message(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def _when(moment) -> str:
    # Month names of our own, as in ui.render: strftime's follow the server's locale.
    return f"{moment.day} {MONTH_ABBREVIATIONS[moment.month - 1]} {moment:%H:%M} UTC"


def stored_answer(turn) -> Answer:
    return Answer(answer=turn.answer, refused=turn.refused, mode=turn.mode, query=turn.question,
                  citations=[Citation(**c) for c in turn.citations], answer_id=turn.answer_id,
                  conversation_id=turn.conversation_id)


class ConversationHandlers:
    def __init__(self, service: RagService):
        self.store = service.conversations

    def choices(self) -> list[tuple[str, str]]:
        """(label, id) for the list, newest first. The titles are readers' questions: the
        dropdown shows them as text, never as HTML."""
        try:
            rows = self.store.conversations(LIST_LIMIT)
        except RagError:
            return []
        return [(f"{row['title']} · {_when(row['updated'])}", row["id"]) for row in rows]

    def listing(self, selected: str | None = None):
        choices = self.choices()
        known = {value for _, value in choices}
        return gr.update(choices=choices, value=selected if selected in known else None)

    # --- opening and closing -----------------------------------------------------------------

    def open(self, conversation_id: str | None) -> tuple:
        """The stored conversation in the chat: chat, turns, answer ids, the open id, sources,
        the list and a note."""
        if not conversation_id:
            return self.new()
        try:
            _, turns = self.store.conversation(conversation_id)
        except ConversationNotFound:
            return self.new()  # deleted since (in another tab, say): a fresh conversation
        except RagError as exc:  # the database is down: start afresh and say why
            return ([], [], [], None, render.sources_html(None), self.listing(),
                    render.error_html(exc))
        chat, plain, ids, last = [], [], [], None
        for turn in turns:
            last = stored_answer(turn)
            chat += [chat_message("user", render.message_html(turn.question)),
                     chat_message("assistant", render.answer_html(last))]
            plain += [chat_message("user", turn.question), chat_message("assistant", turn.answer)]
            ids += [None, turn.answer_id]
        return chat, plain, ids, conversation_id, render.sources_html(last), self.listing(conversation_id), ""

    def new(self) -> tuple:
        return [], [], [], None, render.sources_html(None), self.listing(), ""

    def delete(self, conversation_id: str | None) -> tuple:
        if conversation_id:
            try:
                self.store.delete(conversation_id)
            except RagError as exc:
                return (gr.update(), gr.update(), gr.update(), conversation_id, gr.update(),
                        self.listing(conversation_id), render.error_html(exc))
        return self.new()

    # --- rating --------------------------------------------------------------------------------

    def rate(self, answer_ids: list, like: gr.LikeData) -> tuple:
        """A thumb on an answer: up is recorded at once; down too, and opens the comment box
        for what was wrong. Returns the note, the comment box's visibility, its text, and the
        answer a comment would be about."""
        index = like.index if isinstance(like.index, int) else like.index[0]
        answer_id = answer_ids[index] if 0 <= index < len(answer_ids or []) else None
        if like.liked not in (True, False):  # the thumb taken back: the rating stays as it was
            return gr.update(), gr.update(), gr.update(), gr.update()
        closed = (gr.update(visible=False), "", None)
        if answer_id is None:
            return (render.error_html("This message is not an answer that can be rated."), *closed)
        rating = "up" if like.liked is True else "down"
        try:
            self.store.rate(answer_id, rating, None)
        except RagError as exc:
            return (render.error_html(exc), *closed)
        if rating == "up":
            return (render.text_html(THANKS[rating]), *closed)
        return render.text_html(THANKS[rating]), gr.update(visible=True), "", answer_id

    def comment(self, answer_id: str | None, comment: str) -> tuple:
        """The thumbs-down comment: the rating again, now with what the reader wrote."""
        if not answer_id:
            return gr.update(), gr.update(visible=False), "", None
        try:
            self.store.rate(answer_id, "down", (comment or "").strip() or None)
        except RagError as exc:
            return render.error_html(exc), gr.update(), gr.update(), answer_id
        return render.text_html("Thanks: your comment was kept."), gr.update(visible=False), "", None
