"""Bounded load on a running server on loopback: N questions at C concurrent, reporting
throughput, latency percentiles and errors (no request may be lost).

    .venv/bin/rag serve --index-dir .cache/eval/newsqa-corpus --no-build --port 7861 &
    .venv/bin/python -m benchmarks.load --url http://127.0.0.1:7861 --requests 500 --concurrency 16 \
        --questions ../shared/eval/newsqa/dev.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx
import numpy as np

from benchmarks.common import save

DEFAULT_QUESTIONS = ["How many electric vehicles does Xiaomi plan to deliver in 2025?",
                     "Who is Xiaomi's founder and CEO?", "What about its profit?",
                     "Who won the football World Cup final in Qatar?"]


def load_questions(path: str | None) -> list[str]:
    if not path:
        return DEFAULT_QUESTIONS
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


async def run(url: str, questions: list[str], total: int, concurrency: int, timeout: float) -> dict:
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "loopback only"
    latencies, errors, statuses = [], [], {}
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(questions[i % len(questions)])

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                question = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            try:
                reply = await client.post(f"{url}/api/answer", json={"question": question})
                statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
                if reply.status_code != 200:
                    errors.append(f"{reply.status_code}: {reply.text[:200]}")
                else:
                    latencies.append((time.perf_counter() - started) * 1000)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    arr = np.asarray(latencies) if latencies else np.zeros(1)
    return {
        "requests": total, "concurrency": concurrency, "completed": len(latencies),
        "errors": len(errors), "lost": total - len(latencies) - len(errors), "statuses": statuses,
        "seconds": round(seconds, 1), "throughput_rps": round(len(latencies) / seconds, 2),
        "latency_ms": {p: round(float(np.percentile(arr, q)), 1) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))},
        "first_errors": errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--questions", help="a questions .jsonl (default: a few seed questions)")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--name", default="load")
    args = parser.parse_args()
    result = asyncio.run(run(args.url.rstrip("/"), load_questions(args.questions), args.requests,
                             args.concurrency, args.timeout))
    status = httpx.get(f"{args.url.rstrip('/')}/healthz", timeout=30).json()
    save(args.name, {"server": status, **result})


if __name__ == "__main__":
    main()
