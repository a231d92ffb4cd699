"""Shared helpers for the benchmarks: machine description, timing, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def save(name: str, result: dict) -> Path:
    folder = Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS))
    folder.mkdir(parents=True, exist_ok=True)
    result = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "machine": machine(), **result}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return path


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
