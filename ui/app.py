"""The Gradio web chat, mounted at / in the API server. Wiring only: every decision is the
service's. ui.layout lays the page out, ui.handlers answers its events, this module joins them."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from rag.config import MAX_ARTICLE_FILE_BYTES
from rag.service import RagService
from ui import render
from ui.handlers import EXAMPLE_SLOTS, ChatHandlers
from ui.layout import HEADER, ChatColumn, SideColumn, chat_column, side_column

# Gradio runs one event per listener at a time unless told otherwise; a slow answer would make
# every other visitor wait behind it.
CONCURRENCY = 8
LOGIN_MESSAGE = "Sign in with the server's API key (RAG_API_KEY) as the password; any user name will do."


def wire_events(blocks: gr.Blocks, handlers: ChatHandlers, state: ChatState,
                chat: ChatColumn, side: SideColumn) -> None:
    """Connect the components to the handlers. Each action has exactly one public api_name
    (what gradio_client and the API page list); its other triggers are private duplicates."""
    opts, index, talks, feedback = side.options, side.index, side.conversations, chat.feedback
    inputs = [state.turns, state.answer_ids, state.conversation, opts.top_k, opts.date_from,
              opts.date_to, opts.as_of]
    outputs = [chat.question, chat.chat, state.turns, side.sources, state.answer_ids,
               state.conversation, talks.listing]
    chat.send.click(handlers.respond, [chat.question, chat.chat, *inputs], outputs,
                    api_name="respond")
    chat.question.submit(handlers.respond, [chat.question, chat.chat, *inputs], outputs,
                         api_visibility="private")
    # An example button sends its own label as the question.
    for button in chat.examples:
        button.click(handlers.respond, [button, chat.chat, *inputs], outputs,
                     api_visibility="private")

    conversations = handlers.conversations
    # What opening a conversation fills in: the chat and its states, the sources, the list.
    opened = [chat.chat, state.turns, state.answer_ids, state.conversation, side.sources,
              talks.listing, feedback.note]
    talks.listing.input(conversations.open, [talks.listing], opened, api_visibility="private")
    talks.new.click(conversations.new, None, opened, api_name="new_conversation")
    # The chat's own bin clears the page: the next question starts a new conversation too.
    chat.chat.clear(conversations.new, None, opened, api_visibility="private")
    talks.delete.click(conversations.delete, [state.conversation], opened,
                       api_name="delete_conversation")
    chat.chat.like(conversations.rate, [state.answer_ids],
                   [feedback.note, feedback.box, feedback.comment, state.pending_comment],
                   api_visibility="private")
    feedback.send.click(conversations.comment, [state.pending_comment, feedback.comment],
                        [feedback.note, feedback.box, feedback.comment, state.pending_comment],
                        api_visibility="private")

    index.rebuild.click(handlers.rebuild, [index.confirm_removal],
                        [index.log, index.info, index.confirm_removal], api_name="rebuild")
    index.add.click(handlers.upload, [index.files, index.overwrite],
                    [index.log, index.info, index.files], api_name="add_articles")
    # The open conversation lives in the session (so that programs calling `respond` need not
    # send it) and is copied to the browser's storage, from which a reloaded page reopens it.
    state.conversation.change(lambda conversation: conversation, [state.conversation],
                              [state.remembered], api_visibility="private")
    blocks.load(handlers.on_load, [state.remembered], [index.info, *chat.examples, *opened],
                api_visibility="private")
    # Programs want one whole answer as JSON, not the chat's streamed HTML.
    gr.api(handlers.ask, api_name="ask")


@dataclass(frozen=True)
class ChatState:
    turns: gr.State
    answer_ids: gr.State
    pending_comment: gr.State
    conversation: gr.State
    # The open conversation's id, in the browser's storage: a reload reopens it. Not a secret
    # (every route needs the key when one is set), so the fixed storage secret guards nothing
    # and lets the id survive a server restart too.
    remembered: gr.BrowserState


def chat_state() -> ChatState:
    return ChatState(gr.State([]), gr.State([]), gr.State(None), gr.State(None),
                     gr.BrowserState(None, storage_key="newsrag-conversation",
                                     secret="newsrag-conversation"))


def build_ui(service: RagService, bind_host: str) -> gr.Blocks:
    handlers = ChatHandlers(service, bind_host)
    with gr.Blocks(title="News Q&A", analytics_enabled=False) as blocks:
        gr.Markdown(HEADER)
        state = chat_state()
        with gr.Row(equal_height=False):
            chat = chat_column(EXAMPLE_SLOTS)
            side = side_column(service.settings.top_k)
        wire_events(blocks, handlers, state, chat, side)
    return blocks


def key_login(key: str) -> Callable[[str, str], bool]:
    """Gradio's login check: the API key is the password. Gradio then keeps the page, every
    event and its API (gradio_client included) for callers who signed in."""
    expected = key.encode()

    def check(_username: str, password: str) -> bool:
        # compare_digest: the time taken must not tell how much of a guessed key was right.
        return hmac.compare_digest(str(password).encode(), expected)
    return check


def mount_ui(app, service: RagService) -> None:
    key = service.settings.api_key
    blocks = build_ui(service, app.state.bind_host)
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    # Gradio turns away a larger file before it reaches the service, which applies the same limit.
    gr.mount_gradio_app(app, blocks, path="/", max_file_size=MAX_ARTICLE_FILE_BYTES,
                        theme=gr.themes.Default(), css=render.CSS, footer_links=["api"],
                        auth=key_login(key) if key else None,
                        auth_message=LOGIN_MESSAGE if key else None)
