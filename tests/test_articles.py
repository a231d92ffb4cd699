"""Loading article files: every supported format, and a reason for every file that is skipped."""

import gzip
import json
import os

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
    # 14 records repeat an earlier one's title and text: folded into it as the file is read
    # (4,399 articles, as the eval index holds), each fold counted on its skip line.
    folded = [s for s in news.skipped if "folded into it" in s.reason]
    assert len(news.articles) == 4399 and sum(news.copies) == sum(s.count for s in folded) == 14
    assert len(news.articles) + sum(news.copies) == 4413 and news.skipped == folded
    assert all(a.published for a in news.articles[:50])
    scifact = load_articles(eval_dir() / "scifact" / "corpus.jsonl.gz")
    assert len(scifact.articles) == 5183


def test_gzipped_jsonl_in_a_seeds_folder(tmp_path):
    with gzip.open(tmp_path / "feed.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"id": "g1", "title": "Zipped", "text": "Compressed article text."}) + "\n")
    [article] = load_articles(tmp_path).articles
    assert article.id == "g1" and article.source == "feed.jsonl.gz"


def _gzip_repeated(path, piece: bytes, total: int) -> None:
    """A gzip of `piece` repeated up to `total` bytes, written in chunks (never held whole)."""
    chunk = piece * max(1, (1024 * 1024) // len(piece))
    with gzip.open(path, "wb") as fh:
        for _ in range(0, total, len(chunk)):
            fh.write(chunk)


def test_a_gzip_bomb_corpus_is_skipped_whole(tmp_path):
    (tmp_path / "good.txt").write_text("Good title\n\nA real article body with enough words.\n")
    record = json.dumps({"id": "bomb", "title": "Bomb", "text": "Boom. " + "a" * 20_000}) + "\n"
    _gzip_repeated(tmp_path / "bomb.jsonl.gz", record.encode(), 64 * 1024 * 1024)
    result = load_articles(tmp_path)
    # Records read before the ratio gave the bomb away are dropped with the file.
    assert [a.source for a in result.articles] == ["good.txt"]
    assert "compressed over 100:1" in reasons(result)["bomb.jsonl.gz"]


def test_a_corpus_over_its_decompressed_limit_is_skipped_whole(tmp_path, monkeypatch):
    from rag.ingest import reading

    monkeypatch.setattr(reading, "MAX_CORPUS_FILE_BYTES", 4096)
    lines = [json.dumps({"id": f"r{i}", "title": f"Record {i}", "text": f"Story {i} " + os.urandom(40).hex()})
             for i in range(60)]
    with gzip.open(tmp_path / "feed.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    result = load_articles(tmp_path)
    assert result.articles == []
    why = reasons(result)["feed.jsonl.gz"]
    assert "larger than" in why and "when decompressed" in why


def test_a_jsonl_line_over_the_record_limit_is_skipped_and_the_next_lines_read(tmp_path):
    padding = "x" * (9 * 1024 * 1024)
    lines = [json.dumps({"id": "before", "title": "Before", "text": "The line before the long one."}),
             json.dumps({"id": "long", "title": "Long", "text": "Short text.", "pad": padding}),
             json.dumps({"id": "after", "title": "After", "text": "The line after the long one."})]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["before", "after"]
    assert "record larger than 8 MB" in reasons(result)["feed.jsonl:2"]


def test_single_article_limits_apply_to_the_decompressed_size(tmp_path):
    # Hex text compresses about 2:1: within the ratio, over 5 MB only once decompressed.
    with gzip.open(tmp_path / "long.txt.gz", "wt") as fh:
        fh.write("Long title\n\n")
        for _ in range(6 * 1024 // 4):
            fh.write(os.urandom(2048).hex() + "\n")
    _gzip_repeated(tmp_path / "bomb.html.gz", b"<p>aaaaaaaa</p>", 50 * 1024 * 1024)
    (tmp_path / "small.md.gz").write_bytes(gzip.compress(b"# Small\n\nA small zipped article.\n"))
    result = load_articles(tmp_path)
    assert [a.source for a in result.articles] == ["small.md.gz"]
    why = reasons(result)
    assert "larger than 5 MB when decompressed" in why["long.txt.gz"]
    assert "compressed over 100:1" in why["bomb.html.gz"]


def test_only_http_urls_with_a_host_are_kept(tmp_path):
    urls = {"ok1": "https://example.org/a", "ok2": "HTTP://Example.org/b?c=1",
            "ok3": " https://example.org/c\n", "js": "javascript:alert(document.cookie)",
            "data": "data:text/html,<script>alert(1)</script>", "tab": "java\tscript:alert(1)",
            "space": " javascript:alert(1)", "nohost": "https:evil.example.com", "empty_host": "https://",
            "ftp": "ftp://example.org/file", "ctrl": "https://exa\x00mple.org/", "v6": "http://[::1"}
    (tmp_path / "feed.jsonl").write_text("".join(
        json.dumps({"id": k, "title": k, "text": f"Article {k} text.", "url": u}) + "\n"
        for k, u in urls.items()))
    (tmp_path / "page.html").write_text(
        "<html><head><title>Bridge reopens</title>"
        "<link rel='canonical' href='https://news.example.org/bridge'></head><body><article>"
        "<h1>Bridge reopens</h1><p>The Kettle Street bridge reopened to traffic on Friday after eight "
        "months of repairs costing 12 million pounds, the council said.</p></article></body></html>")
    result = load_articles(tmp_path)
    by_id = {a.id: a.url for a in result.articles}
    assert set(by_id) == set(urls) | {"page"}  # every article kept
    assert by_id["ok1"] == "https://example.org/a" and by_id["ok2"] == "HTTP://Example.org/b?c=1"
    assert by_id["ok3"] == "https://example.org/c"
    assert by_id["page"] == "https://news.example.org/bridge"
    assert all(by_id[k] is None for k in urls if not k.startswith("ok"))
    assert result.unsafe_urls == len(urls) - 3


def test_json_nested_past_pythons_limit_is_skipped_not_fatal(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    deep = "[" * 100_000 + "]" * 100_000
    (seeds / "deep.jsonl").write_text(deep + "\n" + '{"id": "ok", "title": "Fine", "text": "A real line."}\n')
    (seeds / "deep.json").write_text(deep)
    result = load_articles(seeds)
    assert [a.id for a in result.articles] == ["ok"]
    assert {(s.source, s.reason) for s in result.skipped} == {
        ("deep.jsonl:1", "JSON nested too deeply"), ("deep.json", "JSON nested too deeply")}
