"""Loading article files: every supported format, and a reason for every file that is skipped."""

import gzip
import json

from rag.ingest.loading import load_articles
from tests.conftest import SEEDS, eval_dir


def reasons(result):
    return {skip.source: skip.reason for skip in result.skipped}


def test_seed_article_title_date_and_id():
    result = load_articles(SEEDS)
    assert result.skipped == []
    [article] = result.articles
    assert article.title == "Xiaomi raises 2025 electric vehicle delivery target to 400,000"
    assert article.published == "2025-11-21T10:20:00"
    assert article.id == "000_91fdc298d10704eb"
    assert article.source == "000_91fdc298d10704eb.txt"
    # The dateline is metadata, not body text.
    assert not article.text.startswith("Markets")


def test_markdown_and_wordy_dates(tmp_path):
    (tmp_path / "a.md").write_text(
        "# Port strike ends\n\n*Published November 3, 2025*\n\nDock workers in **Rotterdam** "
        "returned to work on Monday, [the union said](https://example.org).\n")
    [article] = load_articles(tmp_path).articles
    assert article.title == "Port strike ends"
    assert article.published == "2025-11-03T00:00:00"
    assert "Dock workers in Rotterdam returned to work on Monday, the union said." in article.text
    assert "**" not in article.text and "](" not in article.text


def test_html_main_text_title_and_date_without_scripts(tmp_path):
    (tmp_path / "page.html").write_text("""<html><head><title>Rail fares rise | Daily Paper</title>
<meta property="article:published_time" content="2025-10-02T08:00:00Z">
<script>alert('tracking'); var secret = "SCRIPT-TEXT";</script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Rail fares rise</h1>
<p>Rail fares in the region will rise by 4.6 percent from January, the transport ministry said on Thursday.</p>
<p>Commuter groups called the increase unfair, noting that punctuality fell for a third straight year.</p>
<iframe src="https://ads.example.com/frame">IFRAME-TEXT</iframe>
<p>The ministry said the extra revenue would pay for new trains on the coastal line by 2027.</p>
</article><footer>Copyright Daily Paper</footer></body></html>""")
    [article] = load_articles(tmp_path).articles
    assert "Rail fares rise" in article.title
    assert article.published == "2025-10-02T00:00:00" or article.published.startswith("2025-10-02")
    assert "4.6 percent" in article.text and "new trains" in article.text
    assert "SCRIPT-TEXT" not in article.text and "IFRAME-TEXT" not in article.text
    assert "alert(" not in article.text


def test_json_and_jsonl_records_with_a_malformed_line(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(
        {"id": "j1", "title": "Single", "text": "A single JSON article about ports.", "published": "2024/05/01"}))
    lines = [json.dumps({"id": "l1", "title": "First", "text": "First line article."}),
             "{not json",
             json.dumps({"id": "l3", "title": "No text"}),
             json.dumps({"id": "l4", "title": "Fourth", "text": "Fourth line article.",
                         "url": "https://example.org/4"})]
    (tmp_path / "many.jsonl").write_text("\n".join(lines) + "\n")
    result = load_articles(tmp_path)
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"j1", "l1", "l4"}
    assert by_id["j1"].published == "2024-05-01T00:00:00"
    assert by_id["l4"].url == "https://example.org/4"
    why = reasons(result)
    assert "malformed JSON" in why["many.jsonl:2"]
    assert "text" in why["many.jsonl:3"]


def test_bad_files_are_skipped_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text("Good title\n\nA real article body with enough words.\n")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait\n\nIl \xe9tait une fois.".encode("latin-1"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "broken.json").write_text("{\"id\": 1,")
    outside = tmp_path.parent / "outside-secret.txt"
    outside.write_text("Secret\n\nThis file lives outside the seeds folder.\n")
    (tmp_path / "link.txt").symlink_to(outside)
    result = load_articles(tmp_path)
    assert [a.source for a in result.articles] == ["good.txt"]
    why = reasons(result)
    assert why["empty.txt"] == "empty file"
    assert "binary" in why["binary.txt"]
    assert "UTF-8" in why["latin1.txt"]
    assert "unsupported file type" in why["notes.pdf"]
    assert "malformed JSON" in why["broken.json"]
    assert "outside" in why["link.txt"]


def test_the_evaluation_corpora_load():
    news = load_articles(eval_dir() / "newsqa" / "corpus.jsonl.gz")
    assert len(news.articles) == 4413 and news.skipped == []
    assert all(a.published for a in news.articles[:50])
    scifact = load_articles(eval_dir() / "scifact" / "corpus.jsonl.gz")
    assert len(scifact.articles) == 5183


def test_gzipped_jsonl_in_a_seeds_folder(tmp_path):
    with gzip.open(tmp_path / "feed.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"id": "g1", "title": "Zipped", "text": "Compressed article text."}) + "\n")
    [article] = load_articles(tmp_path).articles
    assert article.id == "g1" and article.source == "feed.jsonl.gz"
