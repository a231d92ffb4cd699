"""What keeping conversations costs an answer: the same questions answered through the service
without recording (`answer`) and with it (`converse_answer`, one row written per answer),
interleaved so that the machine's drift falls on both alike; p50/p95 of each and of the write
itself (`record_ms`). SQLite beside a temporary folder unless --database-url names another.

    .venv/bin/python -m benchmarks.conversations --index-dir .cache/eval/newsqa-corpus \\
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import save
from rag.config import Settings
from rag.conversations.database import database_url
from rag.eval.metrics import percentiles
from rag.eval.run import load_questions
from rag.service import RagService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--name", default="conversations")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rag-conv-bench-"))
    url = args.database_url or database_url(None, scratch)
    service = RagService(Settings(index_dir=Path(args.index_dir), database_url=url))
    service.refresh(force=True)
    service.warm_up()  # the model, and the database opened and migrated
    questions = load_questions(Path(args.questions))
    for q in questions[:20]:
        service.answer(q.question, as_of=q.as_of)
    plain, kept, record = [], [], []
    for i, q in enumerate(questions):
        calls = [("plain", lambda: service.answer(q.question, as_of=q.as_of)),
                 ("kept", lambda: service.converse_answer(q.question, as_of=q.as_of))]
        for name, call in (calls if i % 2 == 0 else calls[::-1]):
            started = time.perf_counter()
            answer = call()
            elapsed = (time.perf_counter() - started) * 1000
            (plain if name == "plain" else kept).append(elapsed)
            if name == "kept":
                record.append(answer.timings["record_ms"])
    p_plain, p_kept = percentiles(plain), percentiles(kept)
    save(args.name, {"database": url.split(":", 1)[0], "questions": len(questions),
                     "answer_ms": p_plain, "answer_kept_ms": p_kept, "record_ms": percentiles(record),
                     "p50_ratio_kept_to_plain": round(p_kept["p50"] / p_plain["p50"], 3)})


if __name__ == "__main__":
    main()
