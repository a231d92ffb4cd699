"""The Gradio web chat, mounted at / in the API server. Wiring only: every decision is the
service's; this module turns its events into chat messages and HTML."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from rag.config import MAX_ARTICLE_FILE_BYTES as MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES
from rag.errors import BadFilter, BadQuestion, IndexNotReady, RebuildInProgress, StoreUnavailable
from rag.models import Filters, Turn
from rag.service import RagService
from ui import render

EXAMPLE_SLOTS = 4
POLL_S = 0.5
USER_ERRORS = (BadQuestion, BadFilter, IndexNotReady, StoreUnavailable)


def build_ui(service: RagService, allow_index_changes: bool) -> gr.Blocks:
    def respond(message, chat, turns, top_k, date_from, date_to):
        """Stream one answer into the chat and its sources into the side panel."""
        chat, turns = list(chat or []), list(turns or [])
        message = (message or "").strip()
        if not message:
            yield gr.update(), chat, turns, gr.update()
            return
        chat += [{"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
        yield "", chat, turns, gr.update()
        filters = Filters(published_after=date_from or None, published_before=date_to or None)
        history = [Turn(**t) for t in turns]
        text = ""
        try:
            for event in service.stream(message, history, int(top_k), filters):
                if event["event"] == "delta":
                    text += event["text"]
                    chat[-1] = {"role": "assistant", "content": f'<div class="answer">{render.linkify(text)}</div>'}
                    yield "", chat, turns, gr.update()
                elif event["event"] == "reset":
                    text = ""
                elif event["event"] == "answer":
                    answer = event["answer"]
                    chat[-1] = {"role": "assistant", "content": render.answer_html(answer)}
                    turns += [{"role": "user", "content": message},
                              {"role": "assistant", "content": answer.answer}]
                    yield "", chat, turns, render.sources_html(answer)
        except USER_ERRORS as exc:
            chat[-1] = {"role": "assistant", "content": f'<div class="refusal">⚠️ {exc}</div>'}
            yield "", chat, turns, gr.update()

    def ask(question: str) -> dict:
        """One whole answer as JSON: the endpoint for programs (gradio_client)."""
        try:
            return service.answer(question).model_dump()
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    def on_load():
        examples = service.example_questions(EXAMPLE_SLOTS)
        buttons = [gr.update(value=examples[i], visible=True) if i < len(examples)
                   else gr.update(visible=False) for i in range(EXAMPLE_SLOTS)]
        return [render.index_html(service.status()), *buttons]

    def follow_rebuild():
        """Poll the rebuild started by the caller, yielding its progress, then the summary."""
        while True:
            state = service.rebuild_state.public()
            yield render.rebuild_html(state), render.index_html(service.status())
            if state["state"] != "running":
                return
            time.sleep(POLL_S)

    def rebuild():
        if not allow_index_changes:
            yield DISABLED, gr.update()
            return
        try:
            service.start_rebuild()
        except RebuildInProgress:
            pass  # show the running one
        yield from follow_rebuild()

    def upload(files, overwrite):
        if not allow_index_changes:
            yield DISABLED, gr.update(), gr.update()
            return
        # Gradio keeps each upload under its original name inside a temporary folder.
        pairs = [(Path(f).name, Path(f)) for f in (files or [])]
        result = service.add_articles(pairs, overwrite=bool(overwrite))
        lines = [f"Added {name}" for name in result.saved]
        lines += [f"Not added {name}: {why}" for name, why in result.rejected]
        note = "  \n".join(lines) or "No files chosen."
        if not result.saved:
            yield note, gr.update(), None
            return
        try:
            service.start_rebuild()
        except RebuildInProgress:
            pass
        for progress, index in follow_rebuild():
            yield f"{note}  \n{progress}", index, None

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as blocks:
        gr.Markdown("## News Q&A\nAsk about the articles. Every answer cites its sources; "
                    "questions the articles do not cover are refused.")
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(label="Chat", height=480, elem_id="chat", buttons=["copy"],
                                  feedback_options=None)
                with gr.Row():
                    question = gr.Textbox(placeholder="Ask about the news…", show_label=False,
                                          scale=5, min_width=160, elem_id="question", max_lines=4)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                with gr.Row(elem_id="examples"):
                    examples = [gr.Button(visible=False, size="sm", elem_classes="example")
                                for _ in range(EXAMPLE_SLOTS)]
                clear = gr.Button("Clear conversation", size="sm", elem_id="clear")
            with gr.Column(scale=2, min_width=280):
                sources = gr.HTML(render.sources_html(None), elem_id="sources")
                with gr.Accordion("Options", open=False):
                    top_k = gr.Slider(1, 10, value=service.settings.top_k, step=1, label="Passages to use")
                    date_from = gr.Textbox(label="Published from (YYYY-MM-DD)", max_lines=1)
                    date_to = gr.Textbox(label="Published until (YYYY-MM-DD)", max_lines=1)
                with gr.Accordion("Index", open=True, elem_id="index-panel"):
                    index_info = gr.Markdown("", elem_id="index-info")
                    rebuild_btn = gr.Button("Rebuild index", size="sm", elem_id="rebuild")
                    files = gr.File(label=f"Add articles ({', '.join(sorted(SUPPORTED_SUFFIXES))}; "
                                          f"up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB each)",
                                    file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES),
                                    elem_id="upload")
                    overwrite = gr.Checkbox(label="Replace files with the same name", value=False)
                    add_btn = gr.Button("Add to index", size="sm", elem_id="add")
                    build_log = gr.Markdown("", elem_id="build-log")

        inputs = [question, chat, turns, top_k, date_from, date_to]
        outputs = [question, chat, turns, sources]
        send.click(respond, inputs, outputs, api_name="respond")
        question.submit(respond, inputs, outputs, api_visibility="private")
        for button in examples:
            button.click(respond, [button, chat, turns, top_k, date_from, date_to], outputs,
                         api_visibility="private")
        clear.click(lambda: ([], [], render.sources_html(None), ""), None,
                    [chat, turns, sources, question], api_name="clear")
        rebuild_btn.click(rebuild, None, [build_log, index_info], api_name="rebuild")
        add_btn.click(upload, [files, overwrite], [build_log, index_info, files], api_name="add_articles")
        blocks.load(on_load, None, [index_info, *examples], api_visibility="private")
        gr.api(ask, api_name="ask")
    return blocks


DISABLED = ("Changing the index from the web page is disabled because the server is reachable "
            "from the network; use `POST /api/index/rebuild` with RAG_API_KEY.")


def mount_ui(app, service: RagService) -> None:
    from rag.access import is_loopback

    blocks = build_ui(service, allow_index_changes=is_loopback(app.state.bind_host))
    blocks.queue(default_concurrency_limit=8)
    gr.mount_gradio_app(app, blocks, path="/", max_file_size=MAX_UPLOAD_BYTES,
                        theme=gr.themes.Default(), css=render.CSS, footer_links=["api"])
