"""HTML for the web chat: answers with linked [n] markers, source cards, refusals, index state.
Everything shown here that the product did not write itself (titles, sources, dates, article
text, answers, file names, error messages) goes through `text_html`; the only links are the
[n] markers and an article's http(s) address."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Sequence

from rag.lexicon import MARKER, MONTH_ABBREVIATIONS
from rag.models import Answer, Citation, Copy, safe_url

_MARKER = re.compile(MARKER)
_MARKERS = re.compile(rf"\s*{MARKER}\s*")
# The chat renders Markdown (and LaTeX between $$) around and between our HTML blocks, so
# escaping HTML alone would still let "[x](javascript:...)" or "![x](...)" in an article become
# a link or an image: their characters go out as character references, which Markdown leaves
# as text and the browser shows as the characters themselves.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'`\\*_{}[]()#!|~$"})


def text_html(text: object) -> str:
    """Text that shows as itself in HTML and in Markdown: no tag, entity or link can form."""
    return str(text).translate(_ENTITIES)


_MONTHS = MONTH_ABBREVIATIONS


def short_date(published: str | None) -> str | None:
    """'2024-03-12…' as '12 Mar 2024' (month names of our own: strftime's follow the locale);
    None when undated or not a date."""
    try:
        day = date.fromisoformat((published or "")[:10])
    except ValueError:
        return None
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _cite(n: str, published: str | None = None) -> str:
    link = f'<a class="cite" href="#src-{n}">{text_html(f"[{n}]")}</a>'
    shown = short_date(published)
    return link + (f'<span class="cite-date">{text_html(shown)}</span>' if shown else "")


def linkify(text: str, citations: Sequence[Citation] = ()) -> str:
    """Escape the answer and turn each [n] into a link to its source card, followed by the
    date of the cited article when it has one (while streaming, the citations are not known
    yet: the markers are links only)."""
    dates = {int(c.n): c.published for c in citations}
    out, at = [], 0
    for match in _MARKER.finditer(text):
        n = match.group(1)
        out += [text_html(text[at:match.start()]), _cite(n, dates.get(int(n)))]
        at = match.end()
    out.append(text_html(text[at:]))
    return "".join(out)


def answer_html(answer: Answer) -> str:
    if answer.refused:
        return (f'<div class="refusal"><strong>Not covered.</strong> {text_html(answer.answer)}'
                f'<br><small>Nothing was cited. The nearest articles are listed under Sources.</small></div>')
    note = ""
    if answer.mode == "extractive-fallback":
        note = (f'<div class="fallback-note">Extractive answer: the LLM answer was not used '
                f'({text_html(answer.fallback_reason or "failed")}).</div>')
    elif answer.unsupported:
        note = '<div class="fallback-note">Some sentences cite no passage and are not supported.</div>'
    return f'<div class="answer">{_marked(answer)}</div>{note}'


def _marked(answer: Answer) -> str:
    """The answer with its answer span in bold (offsets from the service; never inside a
    marker, and ignored when they do not fit the text)."""
    text, span = answer.answer, answer.answer_span
    if span is None or not 0 <= span.start < span.end <= len(text):
        return linkify(text, answer.citations)
    return (linkify(text[:span.start], answer.citations) + '<strong class="answer-span">'
            + linkify(text[span.start:span.end], answer.citations) + "</strong>"
            + linkify(text[span.end:], answer.citations))


def message_html(text: str) -> str:
    """A user's message (or an example question, made from an article's title) in the chat."""
    return text_html(text)


def error_html(error: object) -> str:
    return f'<div class="refusal">⚠️ {text_html(error)}</div>'


def _highlighted(quote: str, marks: list[str]) -> str:
    """The quote with every answer sentence taken from it marked."""
    spans = sorted({(quote.find(m), quote.find(m) + len(m)) for m in marks if m and m in quote})
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [text_html(quote[at:start]), f"<mark>{text_html(quote[start:end])}</mark>"]
        at = end
    out.append(text_html(quote[at:]))
    return "".join(out)


def _link(url: object, text: object) -> str:
    # Checked again here, not only in the models: the page must not depend on how it was built.
    url = safe_url(url)
    return (f'<a href="{text_html(url)}" target="_blank" rel="noopener noreferrer">{text_html(text)}</a>'
            if url else text_html(text))


def _also_in(copies: list[Copy]) -> str:
    """The other outlets that ran the same story: 'also in: Title (12 Mar 2024), …'."""
    if not copies:
        return ""
    items = []
    for copy in copies:
        shown = short_date(copy.published)
        items.append(_link(copy.url, copy.title) + (f" ({text_html(shown)})" if shown else ""))
    return f'<div class="src-also">also in: {", ".join(items)}</div>'


def _card(c: Citation, claims: list[str]) -> str:
    when = text_html((c.published or "undated")[:10])
    return (f'<div class="source-card" id="src-{int(c.n)}">'
            f'<div class="src-head"><span class="src-n">{text_html(f"[{int(c.n)}]")}</span> '
            f'<span class="src-title">{text_html(c.title)}</span></div>'
            f'<div class="src-meta">{when} · {_link(c.url, c.source)} · score {float(c.score):.2f}</div>'
            f'{_also_in(c.also_in)}'
            f'<blockquote class="src-quote">{_highlighted(c.quote, [c.highlight, *claims])}</blockquote></div>')


def sources_html(answer: Answer | None) -> str:
    if answer is None:
        return '<div class="sources empty">Sources of the answer appear here.</div>'
    if answer.refused:
        items = "".join(
            f'<li><span class="src-title">{text_html(a.title)}</span> '
            f'<span class="src-meta">{text_html((a.published or "")[:10])} · {text_html(a.source)}</span></li>'
            for a in answer.nearby)
        body = f"<ul>{items}</ul>" if items else "<p>No article came close.</p>"
        return f'<div class="sources refused"><h4>Nearest articles found (not cited)</h4>{body}</div>'
    claims = [part.strip() for part in _MARKERS.split(answer.answer) if part.strip()]
    cards = "".join(_card(c, claims) for c in answer.citations)
    return f'<div class="sources"><h4>Sources</h4>{cards}</div>'


def index_html(status: dict) -> str:
    if not status.get("ready"):
        return "<strong>Index:</strong> not built yet."
    built = status.get("built_at")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(built)) if built else "unknown"
    last = status.get("last_build")
    return (f"<strong>{int(status['articles'])}</strong> articles, "
            f"<strong>{int(status['chunks'])}</strong> chunks · built {when}"
            + (f"<br>Last build: {text_html(last)}" if last else ""))


def rebuild_html(state: dict) -> str:
    if state["state"] == "running":
        total = state.get("total") or 0
        progress = f" {text_html(state.get('done') or 0)}/{text_html(total)}" if total else ""
        return f"⏳ Rebuilding: {text_html(state.get('stage') or 'starting')}{progress}"
    if state["state"] == "failed":
        return f"❌ Rebuild failed: {text_html(state.get('error'))}"
    summary = state.get("last_summary")
    if not summary:
        return ""
    skipped = "".join(
        f"<li>skipped {text_html(s['source'])}"
        + (f" ({int(s['count']):,} records)" if s.get("count", 1) != 1 else "")
        + f": {text_html(s['reason'])}</li>" for s in summary.get("skipped", []))
    return f"✅ {text_html(summary['line'])}" + (f"<ul>{skipped}</ul>" if skipped else "")


def upload_html(saved: list[str], rejected: list[tuple[str, str]]) -> str:
    """What became of each uploaded file; the names are the uploader's, so they are escaped."""
    lines = [f"Added {text_html(name)}" for name in saved]
    lines += [f"Not added {text_html(name)}: {text_html(why)}" for name, why in rejected]
    return "<br>".join(lines) or "No files chosen."


CSS = """
.answer a.cite, .answer a.cite:visited { font-weight: 600; text-decoration: none; padding: 0 1px; }
.answer .cite-date { font-size: 0.75em; color: #6b7280; margin: 0 2px 0 1px; white-space: nowrap; }
.refusal { border: 1px dashed #b45309; background: #fffbeb; color: #78350f; padding: 8px 10px; border-radius: 8px; }
.fallback-note { font-size: 0.85em; color: #6b7280; margin-top: 6px; }
.sources h4 { margin: 4px 0 8px; }
.source-card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 10px; margin-bottom: 10px; }
.source-card:target { border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }
.src-n { font-weight: 700; color: #2563eb; }
.src-title { font-weight: 600; }
.src-meta { font-size: 0.85em; color: #6b7280; margin: 2px 0 6px; overflow-wrap: anywhere; }
.src-also { font-size: 0.85em; color: #6b7280; margin: 0 0 6px; overflow-wrap: anywhere; }
.src-quote { margin: 0; padding-left: 8px; border-left: 3px solid #e5e7eb; font-size: 0.92em; white-space: pre-wrap; }
.src-quote mark { background: #fef08a; }
.sources.refused ul { padding-left: 18px; }
"""
