"""One settings class for every front end, read from the environment and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Limits every front end shares: the API's request schema, the CLI, the web chat's slider.
TOP_K_MIN, TOP_K_MAX = 1, 20
MAX_HISTORY_TURNS = 50
MAX_COMMENT_CHARS = 2000  # a reader's comment on an answer
CONVERSATIONS_LIST_MAX = 500
# Article files: what the loader reads and what an upload may be.
TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSON_SUFFIXES = frozenset({".json", ".jsonl"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
# Sizes are decompressed sizes: a .gz is measured by what it expands to, never by what it is.
MAX_ARTICLE_FILE_BYTES = 5 * 1024 * 1024  # one article per file (.txt, .md, .html)
MAX_CORPUS_FILE_BYTES = 1024 * 1024 * 1024  # a collection (.json, .jsonl)
MAX_RECORD_BYTES = 8 * 1024 * 1024  # one JSONL line: room for a 1M-character article, escaped
# Real article collections compress 3-5:1; a file past 100:1 is a decompression bomb. Small
# files are exempt, since a few repeated lines can compress that well.
MAX_COMPRESSION_RATIO = 100
COMPRESSION_RATIO_FLOOR_BYTES = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        # RAG_ENV_FILE names another settings file, or none when empty (the tests use that so
        # that a developer's own .env never leaks into them).
        env_prefix="RAG_", env_file=os.environ.get("RAG_ENV_FILE", ".env") or None,
        env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True, populate_by_name=True,
    )

    # Where articles come from and where the built index lives.
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    collection: str = "news"

    # LLM: any OpenAI-compatible server. Unset means the extractive answerer.
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "RAG_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "RAG_OPENAI_BASE_URL")
    )
    llm_model: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_tokens: int = 400
    llm_temperature: float = 0.1

    # Embeddings: the bundled MiniLM by default; an OpenAI-compatible endpoint when
    # RAG_EMBED_BASE_URL is set.
    embed_model: str = "all-MiniLM-L6-v2"
    embed_base_url: str | None = None
    embed_api_key: str | None = None
    embed_precision: str = "auto"  # auto | fp32 | bf16 | int8 (int8: the onnx backend only)
    embed_batch_size: int = 64
    # Which engine runs the bundled model: auto | torch | openvino | onnx. auto takes OpenVINO
    # where installed (bf16 on CPUs with bf16 units, else fp32), else torch; all give the same
    # vector space, so an index built by one serves the others (docs/benchmarks.md).
    embed_backend: Literal["auto", "torch", "openvino", "onnx"] = "auto"
    # Where the converted OpenVINO/ONNX model is kept; unset: ~/.cache/newsrag/encoders.
    embed_cache_dir: Path | None = None
    embed_threads: int = Field(default=0, ge=0)  # openvino and onnx; 0: their default (every core)
    # Processes embedding a large rebuild (rag/index/embed_pool.py); 0: one per 4 cores from 8 up.
    embed_workers: int = Field(default=0, ge=0)

    # Chroma: embedded (PersistentClient under index_dir) unless CHROMA_HOST is set.
    chroma_host: str | None = Field(
        default=None, validation_alias=AliasChoices("CHROMA_HOST", "RAG_CHROMA_HOST")
    )
    chroma_port: int = Field(
        default=8000, validation_alias=AliasChoices("CHROMA_PORT", "RAG_CHROMA_PORT")
    )
    chroma_timeout_s: float = 10.0

    # Chunking (tokens of the cl100k tokenizer llama-index counts with).
    chunk_size: int = 200
    chunk_overlap: int = 40

    # Retrieval and answering.
    top_k: int = Field(default=5, ge=TOP_K_MIN, le=TOP_K_MAX)
    # Which ranking stages run, in order (see rag/answer/stages): a comma-separated list.
    ranking_stages: Annotated[list[str], NoDecode] = ["dense", "bm25", "article_bm25", "recency"]
    candidates: int = 50
    dense_weight: float = 0.3
    article_weight: float = 0.4
    # Recency: an article's fit to the question's time halves `recency_half_life_days` before
    # it, then falls off slowly; questions after the current state ("who is the CEO", "latest")
    # weigh it `recency_latest_boost` times more. Tuned on news QA dev (docs/benchmarks.md).
    recency_weight: float = 0.8
    recency_half_life_days: float = Field(default=7.0, gt=0)
    recency_latest_boost: float = 1.5
    # Read times named in questions ("in March 2024", "last week") as date windows.
    question_dates: bool = True
    # Near-identical articles (syndicated copies) take one place in the results, as one story.
    fold_copies: bool = True
    # Refuse when the relevance gate's probability that the question is answered falls below
    # this (rag/answer/gate.py); unset: the threshold trained with the gate (rag/answer/gate.json).
    refusal_threshold: float | None = Field(default=None, ge=0, le=1)
    answer_sentences: int = 2  # the most; a second only when the question asks why or how, or the first holds no answer
    max_question_chars: int = Field(default=2000, ge=1)

    # HTTP service.
    api_key: str | None = None
    # Conversations and ratings: any SQLAlchemy URL (postgresql+psycopg://user@host/db needs the
    # `postgres` extra); unset, a SQLite file beside the index (index_dir/conversations.sqlite3).
    database_url: str | None = None

    @field_validator("ranking_stages", mode="before")
    @classmethod
    def _stage_names(cls, value):
        names = [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else list(value)
        if not names:
            raise ValueError("name at least one ranking stage")
        return names  # unknown names are refused where the stages live (rag.answer.stages)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
