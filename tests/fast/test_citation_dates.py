"""Answers show how old their sources are: the web chat and the CLI put each cited article's date
beside its [n] marker and list its syndicated copies ("also in") with the source. Rendering only:
the answer text of the API and of `rag ask --json` keeps its plain markers. Everything an article
brings (titles, dates, URLs) stays escaped and linkless where it is not http(s)."""

from __future__ import annotations

import json

import pytest

from rag import cli
from rag.models import Answer, Citation, Copy
from tests.helpers.html_checks import assert_inert
from tests.helpers.hostile_text import EVIL

HOSTILE_TITLE = f'<img src=x onerror="alert(1)">[click](javascript:alert(2)) $$x$$ {EVIL}'
TEXT = "Deliveries will pass 400,000 [1]. Profit reached 700 million yuan [2]. Unsourced [3]."


def citation(n: int, published: str | None, also_in: list | None = None, **overrides) -> Citation:
    values = {"n": n, "article_id": f"a{n}", "title": f"Article {n}", "published": published,
              "source": f"s{n}.txt", "quote": f"Quote {n}.", "score": 0.5, "also_in": also_in or []}
    return Citation(**{**values, **overrides})


def dated_answer() -> Answer:
    copies = [Copy(article_id="c1", title="Wire copy", published="2024-03-13T08:00:00+00:00",
                   source="wire.jsonl", url="https://wire.example.com/x"),
              Copy(article_id="c2", title="Undated copy", source="b.txt")]
    return Answer(answer=TEXT, refused=False, mode="extractive", query="q",
                  citations=[citation(1, "2024-03-12T10:20:00+00:00", copies), citation(2, None)])


# --- web chat ---------------------------------------------------------------------------------

def test_the_chat_shows_the_date_beside_each_dated_marker():
    from ui import render

    html = render.answer_html(dated_answer())
    assert ('<a class="cite" href="#src-1">&#91;1&#93;</a><span class="cite-date">12 Mar 2024</span>'
            in html)
    assert html.count("cite-date") == 1  # [2] is undated, [3] cites nothing
    assert '<a class="cite" href="#src-2">&#91;2&#93;</a>.' in html
    shown = assert_inert(html, markdown=True)
    assert "[1]12 Mar 2024" in shown
    # While streaming the citations are not known: markers only.
    assert "cite-date" not in render.linkify(TEXT)


@pytest.mark.parametrize("published", ["", "soon", "2024-02-30", f"2024{HOSTILE_TITLE}"])
def test_a_date_that_is_not_a_date_shows_no_date(published):
    from ui import render

    answer = Answer(answer="It happened [1].", refused=False, mode="extractive", query="q",
                    citations=[Citation.model_construct(**{**citation(1, None).model_dump(),
                                                           "published": published})])
    html = render.answer_html(answer)
    assert "cite-date" not in html
    assert_inert(html, markdown=True)


def test_the_source_card_lists_the_copies_with_their_dates():
    from ui import render

    html = render.sources_html(dated_answer())
    shown = assert_inert(html)
    assert "also in: Wire copy (13 Mar 2024), Undated copy" in shown
    assert '<a href="https://wire.example.com/x" target="_blank" rel="noopener noreferrer">Wire copy</a>' in html
    assert html.count("src-also") == 1  # the card of [2] has no copies


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html,<b>x</b>", None])
def test_a_hostile_copy_stays_escaped_and_linkless(url):
    from ui import render

    # model_construct skips the models' URL check: the page must not rely on it alone.
    copy = Copy.model_construct(article_id="c", title=HOSTILE_TITLE, published=f"2024-03-13{HOSTILE_TITLE}",
                                source=HOSTILE_TITLE, url=url)
    answer = Answer(answer="It happened [1].", refused=False, mode="extractive", query="q",
                    citations=[citation(1, "2024-03-12", [copy])])
    shown = assert_inert(render.sources_html(answer))
    assert HOSTILE_TITLE in shown and "(13 Mar 2024)" in shown
    assert_inert(render.answer_html(answer), markdown=True)


# --- CLI --------------------------------------------------------------------------------------

class StubService:
    """Answers every question with `dated_answer()`; `rag ask` builds it instead of the real one."""

    def __init__(self, settings):
        pass

    def answer(self, question, history=None, top_k=None, filters=None, as_of=None):
        return dated_answer()


@pytest.fixture
def stub_cli(monkeypatch):
    monkeypatch.setattr("rag.service.RagService", StubService)


def test_rag_ask_prints_dates_beside_markers_and_copies_in_sources(stub_cli, capsys):
    assert cli.main(["ask", "anything?"]) == 0
    out = capsys.readouterr().out
    assert "400,000 [1 · 2024-03-12]." in out and "yuan [2]." in out and "Unsourced [3]." in out
    sources = out.split("Sources:")[1]
    assert "[1] Article 1, 2024-03-12 (s1.txt)" in sources
    assert "also in: Wire copy (2024-03-13), Undated copy" in sources
    assert sources.count("also in") == 1


def test_a_dated_marker_is_never_split_by_wrapping(capsys):
    long = " ".join(["word"] * 23) + " end [1]. " + " ".join(["more"] * 30) + " [1]."
    answer = dated_answer().model_copy(update={"answer": long})
    cli._print_answer(answer)
    printed = capsys.readouterr().out.split("\n\nSources:")[0]
    assert printed.count("[1 · 2024-03-12]") == 2
    assert max(len(line) for line in printed.splitlines()) <= 100  # wrapped with the dates in


def test_rag_ask_json_keeps_the_answer_text_as_it_is(stub_cli, capsys):
    assert cli.main(["ask", "--json", "anything?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["answer"] == TEXT
    assert payload["citations"][0]["also_in"][0]["title"] == "Wire copy"
    assert payload["citations"][0]["published"].startswith("2024-03-12")


def test_the_api_answer_text_keeps_plain_markers(client):
    from tests.conftest import SEED_QUESTION

    body = client.post("/api/answer", json={"question": SEED_QUESTION}).json()
    assert "[1]" in body["answer"] and "·" not in body["answer"] and "cite-date" not in body["answer"]
    assert all("also_in" in c for c in body["citations"])


def test_the_answer_span_is_bold_in_the_chat_and_escaped():
    from rag.models import Answer, AnswerSpan
    from ui.render import answer_html

    text = "Xiaomi now expects <b>400,000</b> deliveries [1]."
    start = text.index("<b>400,000</b>")
    answer = Answer(answer=text, refused=False, mode="extractive", query="q",
                    answer_span=AnswerSpan(start=start, end=start + len("<b>400,000</b>")))
    html = answer_html(answer)
    assert '<strong class="answer-span">&#60;b&#62;400,000&#60;/b&#62;</strong>' in html
    broken = answer.model_copy(update={"answer_span": AnswerSpan(start=5, end=999)})
    assert "answer-span" not in answer_html(broken)  # offsets that do not fit are ignored
