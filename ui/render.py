"""HTML for the web chat: answers with linked [n] markers, source cards, refusals, index state."""

from __future__ import annotations

import re
import time
from html import escape

from rag.models import Answer

_MARKER = re.compile(r"\[(\d+)\]")
_MARKERS = re.compile(r"\s*\[\d+\]\s*")


def linkify(text: str) -> str:
    """Escape the answer and turn each [n] into a link to its source card."""
    return _MARKER.sub(lambda m: f'<a class="cite" href="#src-{m.group(1)}">[{m.group(1)}]</a>',
                       escape(text, quote=False))


def answer_html(answer: Answer) -> str:
    if answer.refused:
        return (f'<div class="refusal"><strong>Not covered.</strong> {escape(answer.answer)}'
                f'<br><small>Nothing was cited. The nearest articles are listed under Sources.</small></div>')
    note = ""
    if answer.mode == "extractive-fallback":
        note = (f'<div class="fallback-note">Extractive answer: the LLM answer was not used '
                f'({escape(answer.fallback_reason or "failed")}).</div>')
    elif answer.unsupported:
        note = '<div class="fallback-note">Some sentences cite no passage and are not supported.</div>'
    return f'<div class="answer">{linkify(answer.answer)}</div>{note}'


def _highlighted(quote: str, marks: list[str]) -> str:
    """The quote with every answer sentence taken from it marked."""
    spans = sorted({(quote.find(m), quote.find(m) + len(m)) for m in marks if m and m in quote})
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [escape(quote[at:start]), f"<mark>{escape(quote[start:end])}</mark>"]
        at = end
    out.append(escape(quote[at:]))
    return "".join(out)


def sources_html(answer: Answer | None) -> str:
    if answer is None:
        return '<div class="sources empty">Sources of the answer appear here.</div>'
    if answer.refused:
        items = "".join(
            f'<li><span class="src-title">{escape(a.title)}</span> '
            f'<span class="src-meta">{escape((a.published or "")[:10])} · {escape(a.source)}</span></li>'
            for a in answer.nearby)
        body = f"<ul>{items}</ul>" if items else "<p>No article came close.</p>"
        return f'<div class="sources refused"><h4>Nearest articles found (not cited)</h4>{body}</div>'
    claims = [part.strip() for part in _MARKERS.split(answer.answer) if part.strip()]
    cards = []
    for c in answer.citations:
        where = (f'<a href="{escape(c.url, quote=True)}" target="_blank" rel="noopener">{escape(c.source)}</a>'
                 if c.url else escape(c.source))
        date = escape((c.published or "undated")[:10])
        cards.append(
            f'<div class="source-card" id="src-{c.n}">'
            f'<div class="src-head"><span class="src-n">[{c.n}]</span> '
            f'<span class="src-title">{escape(c.title)}</span></div>'
            f'<div class="src-meta">{date} · {where} · score {c.score:.2f}</div>'
            f'<blockquote class="src-quote">{_highlighted(c.quote, [c.highlight, *claims])}</blockquote></div>')
    return f'<div class="sources"><h4>Sources</h4>{"".join(cards)}</div>'


def index_html(status: dict) -> str:
    if not status.get("ready"):
        return "**Index:** not built yet."
    built = status.get("built_at")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(built)) if built else "unknown"
    return (f"**{status['articles']}** articles, **{status['chunks']}** chunks · built {when}"
            + (f"  \nLast build: {status['last_build']}" if status.get("last_build") else ""))


def rebuild_html(state: dict) -> str:
    if state["state"] == "running":
        total = state.get("total") or 0
        progress = f" {state['done']}/{total}" if total else ""
        return f"⏳ Rebuilding: {state.get('stage') or 'starting'}{progress}"
    if state["state"] == "failed":
        return f"❌ Rebuild failed: {state.get('error')}"
    summary = state.get("last_summary")
    if not summary:
        return ""
    lines = [f"✅ {summary['line']}"]
    lines += [f"- skipped {escape(s['source'])}: {escape(s['reason'])}" for s in summary.get("skipped", [])]
    return "\n".join(lines)


CSS = """
.answer a.cite, .answer a.cite:visited { font-weight: 600; text-decoration: none; padding: 0 1px; }
.refusal { border: 1px dashed #b45309; background: #fffbeb; color: #78350f; padding: 8px 10px; border-radius: 8px; }
.fallback-note { font-size: 0.85em; color: #6b7280; margin-top: 6px; }
.sources h4 { margin: 4px 0 8px; }
.source-card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 10px; margin-bottom: 10px; }
.source-card:target { border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }
.src-n { font-weight: 700; color: #2563eb; }
.src-title { font-weight: 600; }
.src-meta { font-size: 0.85em; color: #6b7280; margin: 2px 0 6px; overflow-wrap: anywhere; }
.src-quote { margin: 0; padding-left: 8px; border-left: 3px solid #e5e7eb; font-size: 0.92em; white-space: pre-wrap; }
.src-quote mark { background: #fef08a; }
.sources.refused ul { padding-left: 18px; }
"""
