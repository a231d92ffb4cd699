"""Retrieval quality side by side: our pipeline (`rag eval`), the same with this round's time
and copy stages switched off in settings and every question asked now (the pipeline before
them), and the naive llama-index pipeline, in the same run on the same corpus and questions.

    .venv/bin/python -m benchmarks.quality --corpus ../shared/eval/scifact/corpus.jsonl.gz \
        --questions ../shared/eval/scifact/test.jsonl --name scifact-test
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from benchmarks.common import Timer, save
from benchmarks.naive import build, evaluate as naive_evaluate
from rag.config import Settings
from rag.eval.run import evaluate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--work", default=".cache/bench")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--index-dir", help="reuse our index of this corpus (updated incrementally)")
    args = parser.parse_args()
    work = Path(args.work) / args.name
    settings = Settings(index_dir=Path(args.index_dir) if args.index_dir else work / "ours")
    with Timer() as ours_time:
        ours = evaluate(settings, Path(args.corpus), Path(args.questions), progress=False)
    result = {"ours": ours, "ours_total_s": round(ours_time.seconds, 1)}
    before = settings.model_copy(update={
        "ranking_stages": [s for s in settings.ranking_stages if s != "recency"],
        "question_dates": False, "fold_copies": False})
    result["before_time_stages"] = evaluate(before, Path(args.corpus), Path(args.questions),
                                            progress=False, use_dates=False)
    if not args.skip_naive:
        shutil.rmtree(work / "naive", ignore_errors=True)
        index, naive_build = build(Path(args.corpus), work / "naive")
        naive = naive_evaluate(index, Path(args.questions))
        result["naive"] = {"build": naive_build, "retrieval": naive}
        result["ratios"] = {
            metric: round(ours["retrieval"][metric] / naive[metric], 3)
            for metric in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10") if naive[metric]
        }
    result["ratios_to_before"] = {
        metric: round(ours["retrieval"][metric] / result["before_time_stages"]["retrieval"][metric], 3)
        for metric in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")
        if result["before_time_stages"]["retrieval"].get(metric)}
    save(f"quality-{args.name}", result)


if __name__ == "__main__":
    main()
