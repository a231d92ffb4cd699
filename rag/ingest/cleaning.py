"""Remove site boilerplate (promotions, share bars, disclaimers, teaser lists) from article text.

The method is general, not a list of one site's strings. Each paragraph gets signals:
- repeated across several articles of the collection (site furniture), when short;
- repeated inside its own article (teaser cards print their title twice);
- heading-like (short, no sentence ending);
- a call to action or legal notice (sign-up offers, share bars, disclaimers), when short.
The article ends where a strong signal starts a tail that is mostly boilerplate: everything from
there on is cut, including teaser descriptions that read like prose. Elsewhere only paragraphs
with strong signals that are also short are dropped, and no paragraph goes for a keyword alone:
repetition, link density or a run of furniture around it must agree."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from rag.ingest.loading import RawArticle


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    source: str
    published: str | None
    url: str | None
    sha256: str


_PROMO = re.compile(
    r"\b(sign[ -]?up|subscribe|newsletter|log ?in to|download (?:our|the) app|follow us"
    r"|share (?:this|to|on|via)|share:|click here|read more|related (?:articles|stories|news|posts)"
    r"|recommended for you|sponsored|advertisement|cookies?\b|privacy policy|terms of (?:use|service)"
    r"|all rights reserved|copyright|investment advice|informational purposes|not constitute"
    r"|disclaimer|welcome (?:bonus|gifts?)|promo code|start trading|join (?:us|now)"
    r"|more from|you may also like|trending now|editor'?s picks)\b|©",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…\"”'’)\]]$")
_URL = re.compile(r"https?://\S+|www\.\S+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_NON_WORD = re.compile(r"[\W_]+")

# Bump when cleaning changes its output: the next rebuild then re-cleans every article (and
# re-embeds only those whose cleaned text changed).
CLEANING_VERSION = 4
MAX_BOILERPLATE_WORDS = 40
# A sign-up or privacy notice runs longer than other furniture (The Week's newsletter notice is
# about 50 words on every page): repeated across pages *and* worded as a notice, it goes up to
# this length; repetition alone stays limited to short paragraphs (syndicated news repeats).
MAX_NOTICE_WORDS = 100
HEADING_MAX_WORDS = 12
MIN_ARTICLES_FOR_REPETITION = 3
TAIL_BOILERPLATE_SHARE = 0.5
MIN_BODY_SHARE = 0.5


@dataclass
class _Para:
    text: str
    words: int
    key: str
    heading: bool
    promo: bool
    link_dense: bool
    repeated_across: bool = False
    repeated_within: bool = False
    teaser: bool = False

    @property
    def strong(self) -> bool:
        return self.promo or self.link_dense or self.repeated_across

    @property
    def flagged(self) -> bool:
        return self.strong or self.repeated_within or self.teaser

    @property
    def furniture(self) -> bool:
        """Enough to remove a paragraph on its own: a call-to-action word is never enough alone
        ("The regulator said the advertisement was misleading."); repetition across or within
        pages, link density, or the shape of a bare call to action (no sentence) must agree."""
        return (self.repeated_across or self.link_dense
                or (self.promo and (self.heading or self.repeated_within)))


def split_paragraphs(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b.strip() for b in _PARAGRAPH_BREAK.split(text)]
    if len(blocks) == 1 and text.count("\n") >= 3:
        blocks = [line.strip() for line in text.split("\n")]
    return [" ".join(b.split()) for b in blocks if b.strip()]


def _key(paragraph: str) -> str:
    return _NON_WORD.sub(" ", paragraph.lower()).strip()


def _paragraphs(text: str) -> list[_Para]:
    paras = []
    for text_ in split_paragraphs(text):
        words = len(text_.split())
        short = words <= MAX_BOILERPLATE_WORDS
        urls = len(_URL.findall(text_))
        paras.append(_Para(
            text=text_, words=words, key=_key(text_),
            heading=words <= HEADING_MAX_WORDS and not _SENTENCE_END.search(text_),
            promo=short and bool(_PROMO.search(text_)),
            link_dense=urls > 0 and urls * 8 >= words,
        ))
    # Exact text here: list items that differ only in their numbers are not repeats.
    counts = Counter(p.text.lower() for p in paras)
    for p in paras:
        p.repeated_within = counts[p.text.lower()] > 1
    # A teaser card: a title printed twice in a row, then its blurb.
    for first, second, para in zip(paras, paras[1:], paras[2:]):
        if second.heading and first.text == second.text and not para.heading:
            para.teaser = True
    return paras


def _tail_start(paras: list[_Para]) -> int:
    """Index where the trailing boilerplate begins (len(paras) when there is none).

    The tail must start with a strong signal and be mostly boilerplate by words (headings not
    counted), so a listicle of short headings over long paragraphs is never taken for a teaser
    list."""
    words_after = [0] * (len(paras) + 1)
    flagged_words_after = [0] * (len(paras) + 1)
    flagged_after = [0] * (len(paras) + 1)
    for i in range(len(paras) - 1, -1, -1):
        p = paras[i]
        # Headings are neutral: both articles and teaser lists have them.
        words_after[i] = words_after[i + 1] + (0 if p.heading and not p.flagged else p.words)
        flagged_words_after[i] = flagged_words_after[i + 1] + (p.words if p.flagged else 0)
        flagged_after[i] = flagged_after[i + 1] + p.flagged
    # The article's own end comes after most of its words.
    words_before = 0
    total = sum(p.words for p in paras)
    for i, para in enumerate(paras):
        words_before += para.words
        if not para.strong or words_before - para.words < total * MIN_BODY_SHARE:
            continue
        tail_len = len(paras) - i
        if flagged_words_after[i] < TAIL_BOILERPLATE_SHARE * words_after[i]:
            continue
        # A lone last paragraph has no run of furniture around it to agree with its keyword.
        if tail_len == 1 and not para.furniture:
            continue
        if tail_len > 1 and flagged_after[i] < 2:
            continue
        return i
    return len(paras)


def _may_be_furniture(paragraph: str, words: int) -> bool:
    return words <= MAX_BOILERPLATE_WORDS or (
        words <= MAX_NOTICE_WORDS and bool(_PROMO.search(paragraph)))


def clean_text(text: str, shared_keys: set[str] | frozenset[str] = frozenset()) -> str:
    paras = _paragraphs(text)
    for p in paras:
        p.repeated_across = p.key in shared_keys and _may_be_furniture(p.text, p.words)
    body = paras[: _tail_start(paras)]
    # Site furniture before the first real paragraph (section names, share bars).
    while len(body) > 1 and body[0].furniture and body[0].words <= HEADING_MAX_WORDS:
        body.pop(0)
    kept = [p.text for p in body if not (p.strong and (p.heading or p.repeated_across or p.link_dense))]
    return "\n\n".join(kept)


def short_paragraph_keys(text: str) -> set[str]:
    """The article's short paragraphs (and notices), normalised: what may be furniture if others
    share it."""
    keys = {_key(p) for p in split_paragraphs(text) if _may_be_furniture(p, len(p.split()))}
    return {k for k in keys if k}


def shared_paragraph_keys(raw: list[RawArticle]) -> set[str]:
    """Short paragraphs that recur in several different articles: page furniture."""
    if len(raw) < MIN_ARTICLES_FOR_REPETITION:
        return set()
    seen: Counter[str] = Counter()
    for article in raw:
        seen.update(short_paragraph_keys(article.text))
    return {k for k, n in seen.items() if n >= MIN_ARTICLES_FOR_REPETITION}


def content_hash(title: str, published: str | None, url: str | None, text: str) -> str:
    digest = hashlib.sha256()
    for part in (title, published or "", url or "", text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def clean_article(item: RawArticle, shared: set[str] | frozenset[str]) -> Article | str:
    """The cleaned article, or the reason nothing is left of it."""
    text = clean_text(item.text, shared)
    if not text.strip():
        if not item.title.strip():
            return "nothing left after removing boilerplate"
        text = item.title  # a page that was all furniture still has a real headline
    return Article(
        id=item.id, title=item.title, text=text, source=item.source, published=item.published,
        url=item.url, sha256=content_hash(item.title, item.published, item.url, text),
    )


def clean_articles(raw: list[RawArticle]) -> tuple[list[Article], list[tuple[str, str]]]:
    """Cleaned articles, and (source, reason) for those left with no text."""
    shared = shared_paragraph_keys(raw)
    articles, skipped = [], []
    for item in raw:
        cleaned = clean_article(item, shared)
        if isinstance(cleaned, str):
            skipped.append((item.source, cleaned))
        else:
            articles.append(cleaned)
    return articles, skipped
