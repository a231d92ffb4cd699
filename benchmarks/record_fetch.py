"""Where a worker's chunk records should live (issue 28): fetching the records a question needs
from the snapshot folder's chunks.jsonl by offset (what the product does) against asking the
Chroma collection for the same rows' documents and metadata, on a built index.

    .venv/bin/python -m benchmarks.record_fetch --index-dir .cache/eval/newsqa-corpus
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save
from rag.config import Settings
from rag.index import snapshot_files
from rag.index.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=60, help="records a question reads")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    settings = Settings(index_dir=args.index_dir, _env_file=None)
    store = Store(settings)
    pointer = store.current()
    snapshot = snapshot_files.load(args.index_dir, pointer.snapshot, pointer.fingerprint,
                                   store.collection, pointer.seq, pointer.collection)
    collection = store.collection(pointer.collection_name)
    rng = np.random.default_rng(0)
    timings: dict[str, list[float]] = {"jsonl_by_offset": [], "chroma_get": []}
    for _ in range(args.rounds):
        rows = rng.choice(len(snapshot), size=args.rows, replace=False)
        begun = time.perf_counter()
        texts = [snapshot.records[int(r)]["text"] for r in rows]
        timings["jsonl_by_offset"].append((time.perf_counter() - begun) * 1000)
        begun = time.perf_counter()
        got = collection.raw.get(ids=[snapshot.ids[int(r)] for r in rows],
                                 include=["documents", "metadatas"])["documents"]
        timings["chroma_get"].append((time.perf_counter() - begun) * 1000)
        assert sorted(texts) == sorted(got)
    result = {"index_dir": str(args.index_dir), "chunks": len(snapshot), "rows_per_question": args.rows,
              **{name: {"p50_ms": round(statistics.median(t), 2),
                        "p95_ms": round(float(np.percentile(t, 95)), 2)} for name, t in timings.items()}}
    save("record-fetch", result)


if __name__ == "__main__":
    main()
