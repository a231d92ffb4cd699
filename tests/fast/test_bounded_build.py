"""A build holds a bounded part of the archive (issue 28): the splitter runs a bounded number of
articles ahead of the encoder, and a whole build lets each article's text go once it is cut."""

import threading

from rag.index import rows
from rag.ingest.cleaning import Article


def article(n: int) -> Article:
    return Article(id=f"a{n}", title=f"Title {n}", published=None, source=f"a{n}.txt", url=None,
                   text=f"Body of article {n}. It says one thing.", sha256=f"{n:064x}")


def test_the_splitter_runs_a_bounded_number_of_articles_ahead(monkeypatch):
    cut = []
    lock = threading.Lock()

    def chunk_article(a, size, overlap):
        with lock:
            cut.append(a.id)
        return [a.id]

    monkeypatch.setattr(rows, "chunk_article", chunk_article)
    items = [article(n) for n in range(100)]
    ahead = rows.chunked_ahead(rows._released(items), 200, 40, ahead=5)
    assert next(ahead) == ["a0"]
    threading.Event().wait(0.2)  # time for an unbounded splitter to run away
    assert len(cut) <= 6
    # The articles handed to the splitter are no longer held by the list they came from.
    assert items[0] is None and items[50] is not None
    assert [c for chunks in ahead for c in chunks] == [f"a{n}" for n in range(1, 100)]
    assert all(item is None for item in items)
