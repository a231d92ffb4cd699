"""The components of the web chat, column by column. Each builder must run inside a gr.Blocks
context and returns its components so the events can be wired to them afterwards. The elem_ids
are an interface: the browser tests and the CSS find the page by them."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from rag.config import (MAX_ARTICLE_FILE_BYTES, MAX_COMMENT_CHARS, SUPPORTED_SUFFIXES, TOP_K_MAX,
                        TOP_K_MIN)
from ui import render

HEADER = ("## News Q&A\nAsk about the articles. Every answer cites its sources; "
          "questions the articles do not cover are refused.")


@dataclass(frozen=True)
class Feedback:
    note: gr.HTML
    box: gr.Column
    comment: gr.Textbox
    send: gr.Button


@dataclass(frozen=True)
class ChatColumn:
    chat: gr.Chatbot
    feedback: Feedback
    question: gr.Textbox
    send: gr.Button
    examples: list[gr.Button]


@dataclass(frozen=True)
class ConversationsPanel:
    listing: gr.Dropdown
    new: gr.Button
    delete: gr.Button


@dataclass(frozen=True)
class Options:
    top_k: gr.Slider
    date_from: gr.Textbox
    date_to: gr.Textbox
    as_of: gr.Textbox


@dataclass(frozen=True)
class IndexPanel:
    info: gr.HTML
    rebuild: gr.Button
    confirm_removal: gr.Checkbox
    files: gr.File
    overwrite: gr.Checkbox
    add: gr.Button
    log: gr.HTML


@dataclass(frozen=True)
class SideColumn:
    conversations: ConversationsPanel
    sources: gr.HTML
    options: Options
    index: IndexPanel


def chat_column(example_slots: int) -> ChatColumn:
    with gr.Column(scale=3, min_width=300):
        # "Like" and "Dislike" render as Gradio's thumbs on every answer (ui.conversations).
        chat = gr.Chatbot(label="Chat", height=480, elem_id="chat", buttons=["copy"],
                          feedback_options=("Like", "Dislike"))
        feedback = feedback_row()
        with gr.Row():
            question = gr.Textbox(placeholder="Ask about the news…", show_label=False,
                                  scale=5, min_width=160, elem_id="question", max_lines=4)
            send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
        # Hidden until the page loads: the examples come from whatever the index holds then.
        with gr.Row(elem_id="examples"):
            examples = [gr.Button(visible=False, size="sm", elem_classes="example")
                        for _ in range(example_slots)]
    return ChatColumn(chat, feedback, question, send, examples)


def feedback_row() -> Feedback:
    note = gr.HTML("", elem_id="feedback-note")
    # Opens on a thumbs down: what was wrong, kept with the rating.
    with gr.Column(visible=False, elem_id="feedback-box") as box:
        comment = gr.Textbox(label="What was wrong with this answer? (optional)", max_lines=4,
                             max_length=MAX_COMMENT_CHARS, elem_id="feedback-comment")
        send = gr.Button("Send comment", size="sm", elem_id="send-comment")
    return Feedback(note, box, comment, send)


def conversations_panel() -> ConversationsPanel:
    with gr.Accordion("Conversations", open=True, elem_id="conversations-panel"):
        listing = gr.Dropdown(label="Open a conversation", choices=[], value=None,
                              elem_id="conversations", interactive=True)
        with gr.Row():
            new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
            delete = gr.Button("Delete conversation", size="sm", variant="stop",
                               elem_id="delete-conversation")
    return ConversationsPanel(listing, new, delete)


def options_panel(top_k: int) -> Options:
    # Collapsed: the defaults suit most questions and the chat keeps the space.
    with gr.Accordion("Options", open=False):
        # The same bounds the service clamps to and the API validates against.
        slider = gr.Slider(TOP_K_MIN, TOP_K_MAX, value=top_k, step=1, label="Passages to use")
        date_from = gr.Textbox(label="Published from (YYYY-MM-DD)", max_lines=1)
        date_to = gr.Textbox(label="Published until (YYYY-MM-DD)", max_lines=1)
        # value="": with an initial value the parameter is optional for gradio_client, so
        # callers of the `respond` endpoint that predate this box keep working.
        as_of = gr.Textbox(label="As of", value="", placeholder="now (or YYYY-MM-DD)", max_lines=1,
                           elem_id="as-of", info="Leave out articles published after this moment")
    return Options(slider, date_from, date_to, as_of)


def _upload_label() -> str:
    kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return f"Add articles ({kinds}; up to {MAX_ARTICLE_FILE_BYTES // (1024 * 1024)} MB each)"


def index_panel() -> IndexPanel:
    with gr.Accordion("Index", open=True, elem_id="index-panel"):
        # HTML, not Markdown: both show file names and errors (ui.render escapes them), which
        # Markdown would read as links.
        info = gr.HTML("", elem_id="index-info")
        rebuild = gr.Button("Rebuild index", size="sm", elem_id="rebuild")
        # Without it, a rebuild that would remove most of the index stops and says so.
        confirm_removal = gr.Checkbox(label="Allow removing most articles", value=False,
                                      elem_id="confirm-removal")
        files = gr.File(label=_upload_label(), file_count="multiple",
                        file_types=sorted(SUPPORTED_SUFFIXES), elem_id="upload")
        overwrite = gr.Checkbox(label="Replace files with the same name", value=False)
        add = gr.Button("Add to index", size="sm", elem_id="add")
        log = gr.HTML("", elem_id="build-log")
    return IndexPanel(info, rebuild, confirm_removal, files, overwrite, add, log)


def side_column(top_k: int) -> SideColumn:
    with gr.Column(scale=2, min_width=280):
        conversations = conversations_panel()
        sources = gr.HTML(render.sources_html(None), elem_id="sources")
        options = options_panel(top_k)
        index = index_panel()
    return SideColumn(conversations, sources, options, index)
