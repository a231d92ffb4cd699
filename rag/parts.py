"""The service's parts, built from the settings in one place: what the CLI, the web app and the
evaluation run with (each makes `RagService(settings)`, which builds them here), and what a test
or a deployment replaces part by part (`RagService(settings, store=..., llm=...)`)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer import llm as llm_mod
from rag.answer.policy import AnswerPolicy
from rag.answer.refusal import RefusalPolicy
from rag.answer.stages import RankingStage, default_stages
from rag.config import Settings
from rag.conversations.database import database_url
from rag.conversations.store import ConversationStore
from rag.index.embedding import Embedder
from rag.index.store import Store

DEFAULT = object()  # "build the default": None is a choice of its own for the LLM


@dataclass
class Parts:
    store: Store | None  # None: made on first use, and again after it fails
    embedder: Embedder | None  # None: loaded on first use (loading the model is slow)
    llm: object | None  # None: extractive answers only
    stages: list[RankingStage]
    refusal_policy: RefusalPolicy
    answer_policy: AnswerPolicy
    conversations: ConversationStore  # opened (and migrated) on first use


def build_parts(settings: Settings, *, store: Store | None = None, embedder: Embedder | None = None,
                llm=DEFAULT, stages: list[RankingStage] | None = None,
                refusal_policy: RefusalPolicy | None = None) -> Parts:
    """Each part given is used as is; the others are the product's defaults for `settings`:
    Chroma and the bundled embedder (on first use), the configured OpenAI-compatible server if
    any, the ranking stages RAG_RANKING_STAGES names, the trained relevance gate, and the
    conversations database of RAG_DATABASE_URL (SQLite beside the index when unset)."""
    if llm is DEFAULT:
        llm = llm_mod.LlmClient(settings) if llm_mod.configured(settings) else None
    return Parts(
        store=store, embedder=embedder, llm=llm,
        stages=stages if stages is not None else default_stages(settings),
        refusal_policy=refusal_policy or RefusalPolicy(settings),
        answer_policy=AnswerPolicy(llm, settings.answer_sentences),
        conversations=ConversationStore(database_url(settings.database_url, settings.index_dir)),
    )
