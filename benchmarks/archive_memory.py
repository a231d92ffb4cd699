"""Memory and time as the archive grows (issue 28): synthetic articles, embeddings from the instant
stand-in (benchmarks/updates.py), so that every figure is the product's own work.

Per size, each step in a process of its own so that one's memory is not the next's:
- build: `build()` from scratch; seconds and peak RSS (VmHWM);
- worker: the service a `rag serve` runs (embedded Chroma, no LLM) on that index; RSS after start
  (the snapshot is read on the first answer), then 20 answers (10 plain, 10 asked as of a date,
  which search the snapshot's own vectors): RSS after them and answer p50/p95;
- worker-server: the same with the vectors' index in a `chroma run` server over the same store
  (the deployment past one machine), and that server's RSS;
- update: +5 articles / -1 article through a `rag index --changed` process (the files named),
  seconds and peak RSS; then three more +5/-1 in that process, which holds the snapshot as a
  serving `rag serve` does: two naming their files (the first update of a process keys every
  sketch for the copies, the next keys only what it adds), and one scanning the whole folder.

    .venv/bin/python -m benchmarks.archive_memory --sizes 50000 200000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save, status_mb
from benchmarks.updates import StandInEmbedder, _vocabulary, settings_for


def short_article(rng: np.random.Generator, words: list[str], n: int) -> str:
    """About one chunk of text, as in the issue's measurement (50,000 articles, 52,054 chunks)."""
    picks = iter(rng.zipf(1.3, size=200) % len(words))
    sentences = [" ".join(words[next(picks)] for _ in range(int(rng.integers(6, 12)))).capitalize() + "."
                 for _ in range(int(rng.integers(2, 5)))]
    title = " ".join(words[i] for i in rng.integers(0, 500, size=6)).capitalize()
    return f"{title}\n2025-{1 + (n // 28) % 12:02d}-{1 + n % 28:02d}\n\n" + " ".join(sentences) + "\n"


def write_archive(folder: Path, count: int, seed: int = 0, start: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = _vocabulary(np.random.default_rng(1))
    for n in range(start, start + count):
        path = folder / f"{n // 1000:04d}" / f"article-{n:07d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(short_article(rng, words, n), encoding="utf-8")


def _status_mb(field: str, pid: int | str = "self") -> float:
    return round(status_mb(field, pid), 1)


def step_build(work: Path, serving=None, store=None, changed: list[str] | None = None) -> dict:
    from rag.index.build import build

    started = time.perf_counter()
    summary, built = build(settings_for(work, work / "seeds"), embedder=StandInEmbedder(),
                           serving=serving, store=store, changed=changed)
    return {"seconds": round(time.perf_counter() - started, 2), "peak_rss_mb": _status_mb("VmHWM"),
            "line": summary.line(), "snapshot": built}


def _questions(count: int) -> list[str]:
    words = _vocabulary(np.random.default_rng(1))
    rng = np.random.default_rng(7)
    return [f"What did the {' '.join(words[i] for i in rng.integers(0, 300, size=3))} report?"
            for _ in range(count)]


def step_worker(work: Path, answers: int = 20, chroma_port: int | None = None) -> dict:
    import gc

    from rag.index.store import Store
    from rag.service import RagService

    settings = settings_for(work, work / "seeds")
    if chroma_port:
        settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_port})
    service = RagService(settings, store=Store(settings), embedder=StandInEmbedder(), llm=None)
    service.warm_up()
    gc.collect()
    started_mb = _status_mb("VmRSS")
    times, first_mb = [], None
    for n, question in enumerate(_questions(answers)):
        as_of = "2025-06-15" if n % 2 else None
        begun = time.perf_counter()
        service.answer(question, as_of=as_of)
        times.append((time.perf_counter() - begun) * 1000)
        first_mb = first_mb or _status_mb("VmRSS")
    return {"rss_after_start_mb": started_mb, "rss_after_first_answer_mb": first_mb,
            "rss_after_answers_mb": _status_mb("VmRSS"),
            # Of which: the process's own memory, and pages of mapped files (the snapshot's
            # vectors and sketches: shared by the workers of a machine, reclaimable).
            "rss_anon_mb": _status_mb("RssAnon"), "rss_file_mb": _status_mb("RssFile"),
            "answers": answers, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1)}


def step_worker_with_server(work: Path) -> dict:
    """The worker of a deployment past one machine: the vectors' index in a `chroma run` server
    (over the same store folder), the worker holding the snapshot only."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen([str(chroma), "run", "--path", str(work / "index" / "chroma"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        result = step_worker(work, chroma_port=port)
        result["chroma_server_rss_mb"] = _status_mb("VmRSS", server.pid)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def _change(seeds: Path, start: int, seed: int) -> list[str]:
    """+5 articles, -1 article (the first file of the first folder); the files changed, as
    absolute paths (a relative one is taken as relative to the seeds folder)."""
    seeds = seeds.resolve()
    write_archive(seeds, 5, seed=seed, start=start)
    first = seeds / min(os.listdir(seeds))
    gone = first / min(os.listdir(first))
    gone.unlink()
    return [str(seeds / f"{n // 1000:04d}" / f"article-{n:07d}.txt") for n in range(start, start + 5)] \
        + [str(gone)]


def step_update(work: Path, size: int) -> dict:
    """An update by a `rag index --changed` process of its own, then three by a process that
    holds the snapshot already, as `rag serve` does when it rebuilds (rag.rebuilds)."""
    from rag.index.store import Store

    seeds = work / "seeds"
    store = Store(settings_for(work, seeds))
    result = step_build(work, store=store, changed=_change(seeds, size, seed=1000))
    serving = result.pop("snapshot")
    for n, (name, named) in enumerate([("in_serving_process", True),
                                       ("in_serving_process_again", True),
                                       ("in_serving_process_whole_scan", False)]):
        changed = _change(seeds, size + 5 * (n + 1), seed=1001 + n)
        result[name] = step_build(work, serving=serving, store=store,
                                  changed=changed if named else None)
        serving = result[name].pop("snapshot")
    return result


def _without_snapshot(result: dict) -> dict:
    result.pop("snapshot", None)
    return result


def _in_child(step: str, work: Path, size: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.archive_memory", "--step", step,
                          "--work", str(work), "--sizes", str(size)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(work: Path, size: int) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    write_archive(work / "seeds", size)
    result = {"articles": size}
    for step in ("build", "worker", "worker-server", "update"):
        result[step] = _in_child(step, work, size)
        print(json.dumps({"size": size, step: result[step]}), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--work", type=Path, default=Path(".cache/bench/archive"))
    parser.add_argument("--step", choices=("build", "worker", "worker-server", "update"))
    parser.add_argument("--keep", action="store_true", help="keep the last size's index folder")
    parser.add_argument("--name", default="archive-memory")
    args = parser.parse_args()
    if args.step:
        steps = {"build": lambda: _without_snapshot(step_build(args.work)),
                 "worker": lambda: step_worker(args.work),
                 "worker-server": lambda: step_worker_with_server(args.work),
                 "update": lambda: step_update(args.work, args.sizes[0])}
        print(json.dumps(steps[args.step]()))
        return
    result = {"sizes": []}
    for size in args.sizes:
        result["sizes"].append(measure(args.work / str(size), size))
        if not args.keep:
            shutil.rmtree(args.work / str(size), ignore_errors=True)
    save(args.name, result)


if __name__ == "__main__":
    main()
