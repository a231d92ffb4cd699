"""What an update costs as the archive grows: add 5 articles and remove 1, on synthetic archives
of 1k, 8k, 10k, 100k articles (fixed seed), embeddings from an instant stand-in so that the figure
is the product's own work. And "+68": the news corpus's last 68 records, as a new file, added to
an index of the rest.

    .venv/bin/python -m benchmarks.updates --sizes 1000 8000
    .venv/bin/python -m benchmarks.updates --sizes 1000 10000 100000 --repeats 1 --name updates-curve
    .venv/bin/python -m benchmarks.updates --sizes --memory 8000 --news ../shared/eval/newsqa/corpus.jsonl.gz
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import shutil
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import peak_rss_mb, save, status_mb
from rag.config import Settings
from rag.index.build import build
from rag.index.store import Store

WIDTH = 384
_WORDS = None


class StandInEmbedder:
    """Vectors from each text's hash: instant, deterministic, the right width."""

    name = "stand-in"
    dimension = WIDTH

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), WIDTH), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            out[row] = np.random.default_rng(seed).standard_normal(WIDTH)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    quick = embed


def _vocabulary(rng: np.random.Generator, size: int = 20_000) -> list[str]:
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    weights = np.linspace(2.0, 0.2, len(letters))
    weights /= weights.sum()
    return ["".join(rng.choice(letters, size=rng.integers(3, 10), p=weights)) for _ in range(size)]


def synthetic_article(rng: np.random.Generator, words: list[str], n: int) -> str:
    zipf = rng.zipf(1.3, size=2000) % len(words)
    picks = iter(zipf)
    paragraphs = []
    for _ in range(rng.integers(4, 10)):
        sentences = []
        for _ in range(rng.integers(2, 5)):
            length = int(rng.integers(8, 25))
            sentence = " ".join(words[next(picks)] for _ in range(length))
            sentences.append(sentence.capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    if n % 3 == 0:  # site furniture that cleaning must find across articles
        paragraphs.append("Sign up for our newsletter to get the day's top stories.")
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    title = " ".join(words[i] for i in rng.integers(0, 500, size=6)).capitalize()
    return f"{title}\n2025-{month:02d}-{day:02d}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_archive(folder: Path, count: int, seed: int = 0, start: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    words = _vocabulary(np.random.default_rng(1))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        path = folder / f"{n // 1000:03d}" / f"article-{n:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(synthetic_article(rng, words, n), encoding="utf-8")
        paths.append(path)
    return paths


class Phases:
    """Seconds per build stage, from the progress callback."""

    def __init__(self):
        self.started = time.perf_counter()
        self.last = ("start", self.started)
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.last[0]:
            name, since = self.last
            self.seconds[name] = self.seconds.get(name, 0.0) + now - since
            self.last = (stage, now)

    def close(self) -> dict[str, float]:
        self("end", 0, 0)
        return {k: round(v, 3) for k, v in self.seconds.items()}


def settings_for(work: Path, seeds: Path) -> Settings:
    return Settings(seeds_dir=seeds, index_dir=work / "index", _env_file=None)


def timed_rebuild(settings: Settings, embedder, serving=None, store=None) -> tuple[dict, object]:
    """`serving` and `store`: the snapshot and the open store a running server holds (None: a
    `rag rebuild` process, which opens the store and reads the snapshot from the index folder)."""
    phases = Phases()
    started = time.perf_counter()
    summary, built = build(settings, progress=phases, embedder=embedder, serving=serving,
                           store=store)
    return {"seconds": round(time.perf_counter() - started, 3), "phases": phases.close(),
            "line": summary.line()}, built


def _change(seeds: Path, size: int, round_: int) -> None:
    """5 new articles in, the oldest remaining one out."""
    write_archive(seeds, 5, seed=1000 + round_, start=size + 5 * round_)
    sorted(seeds.rglob("*.txt"))[round_].unlink()


def measure_size(work: Path, size: int, repeats: int) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    seeds = work / "seeds"
    write_archive(seeds, size)
    settings = settings_for(work, seeds)
    embedder = StandInEmbedder()
    store = Store(settings)
    full, serving = timed_rebuild(settings, embedder, store=store)
    updates = []
    for round_ in range(repeats):
        _change(seeds, size, round_)
        update, serving = timed_rebuild(settings, embedder, serving, store)
        updates.append(update)
    del serving, store
    _change(seeds, size, repeats)
    process, _ = timed_rebuild(settings, embedder)
    seconds = [u["seconds"] for u in updates]
    return {"articles": size, "full_build": full, "updates": updates,
            "update_median_s": round(statistics.median(seconds), 3),
            "process_update": process, "peak_rss_mb": peak_rss_mb()}


def _rss_mb() -> float:
    return status_mb("VmRSS")


class RssPeak:
    """The highest resident size seen while it runs (sampled every 5 ms)."""

    def __enter__(self):
        self.peak, self._stop = _rss_mb(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def measure_server_memory(work: Path, size: int, updates: int = 3) -> dict:
    """The service a `rag serve` runs (the model left out: a stricter ratio), serving an
    archive, then updated through it as POST /api/rebuild does."""
    from rag.service import RagService

    shutil.rmtree(work, ignore_errors=True)
    seeds = work / "seeds"
    write_archive(seeds, size)
    settings = settings_for(work, seeds)
    build(settings, embedder=StandInEmbedder())
    gc.collect()
    service = RagService(settings, store=Store(settings), embedder=StandInEmbedder(), llm=None)
    service.answer("What did the port authority approve?")
    rounds = []
    for round_ in range(updates):
        gc.collect()
        before = _rss_mb()
        _change(seeds, size, round_)
        with RssPeak() as peak:
            summary = service.rebuild()
            service.answer("What did the port authority approve?")
        rounds.append({"rss_before_mb": round(before, 1), "peak_mb": round(peak.peak, 1),
                       "ratio": round(peak.peak / before, 3), "line": summary.line()})
    return {"articles": size, "rounds": rounds, "max_ratio": max(r["ratio"] for r in rounds)}


def measure_news(work: Path, corpus: Path, added: int = 68) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    seeds = work / "seeds"
    seeds.mkdir(parents=True)
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    (seeds / "corpus-rest.jsonl").write_text("".join(lines[:-added]), encoding="utf-8")
    settings = settings_for(work, seeds)
    embedder = StandInEmbedder()
    store = Store(settings)
    full, serving = timed_rebuild(settings, embedder, store=store)
    (seeds / "latest.jsonl").write_text("".join(lines[-added:]), encoding="utf-8")
    update, _ = timed_rebuild(settings, embedder, serving, store)
    return {"records": len(lines), "added": added, "full_build": full, "update": update}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 8000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--news", type=Path)
    parser.add_argument("--memory", type=int, default=0,
                        help="also measure a serving process's memory over updates at this size")
    parser.add_argument("--work", type=Path, default=Path(".cache/bench/updates"))
    parser.add_argument("--name", default="updates")
    args = parser.parse_args()
    result: dict = {"sizes": []}
    for size in args.sizes:
        measured = measure_size(args.work / str(size), size, args.repeats)
        print(json.dumps({k: v for k, v in measured.items() if k != "updates"}), flush=True)
        result["sizes"].append(measured)
        shutil.rmtree(args.work / str(size), ignore_errors=True)
    if len(result["sizes"]) >= 2:
        first, last = result["sizes"][0], result["sizes"][-1]
        result["ratio_largest_to_smallest"] = round(last["update_median_s"] / first["update_median_s"], 2)
    if args.memory:
        result["server_memory"] = measure_server_memory(args.work / "memory", args.memory)
    if args.news:
        result["news"] = measure_news(args.work / "news", args.news)
    save(args.name, result)


if __name__ == "__main__":
    main()
