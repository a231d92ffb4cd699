"""Split articles into overlapping, sentence-aware chunks that carry their article's title and date."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rag.ingest.cleaning import Article


@dataclass(frozen=True)
class Chunk:
    article_id: str
    n: int
    text: str
    title: str
    published: str | None
    source: str
    url: str | None
    sha256: str

    @property
    def id(self) -> str:
        return chunk_id(self.article_id, self.n)

    @property
    def embed_text(self) -> str:
        return embed_text(self.title, self.published, self.text)


def chunk_id(article_id: str, n: int) -> str:
    return f"{article_id}::{n}"


def embed_text(title: str, published: str | None, body: str) -> str:
    """What gets embedded and BM25-indexed: the headline and date give a passage its context."""
    header = f"{title} ({published[:10]})" if published else title
    return f"{header}\n{body}"


@lru_cache(maxsize=4)
def _splitter(chunk_size: int, chunk_overlap: int):
    from llama_index.core.node_parser import SentenceSplitter

    from rag.ingest.sentences import sentence_spans

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                            chunking_tokenizer_fn=sentence_spans)


def chunk_article(article: Article, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    pieces = _splitter(chunk_size, chunk_overlap).split_text(article.text)
    return [
        Chunk(
            article_id=article.id, n=n, text=piece.strip(), title=article.title,
            published=article.published, source=article.source, url=article.url,
            sha256=article.sha256,
        )
        for n, piece in enumerate(p for p in pieces if p.strip())
    ]
