"""`rag index` on a large collection of small repeated records beside the seed article: its wall
time and peak RSS (issue: a valid 1 GiB .jsonl.gz, 13 MB compressed, drove the build to 19 GB).

The collection is a wire feed that repeats one story under new ids, about 430 bytes a record,
written once into a cache folder (1 GiB decompressed is 2.5 million records, ~16 MB gzipped).
The build runs in its own process from an empty index folder with the product's own embedder.

    .venv/bin/python -m benchmarks.large_collection [--gib 1.0]   # -> results/large-collection.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import save

ROOT = Path(__file__).resolve().parent.parent
STORY = ("The port authority said container traffic rose in the third quarter as shipping lines "
         "added routes to the region. Officials expect volumes to keep growing next year, when a "
         "new berth opens and the rail link to the inland terminal is finished. Dock workers "
         "agreed a two-year pay deal last month.")
# The build's own peak, from its memory map (VmHWM): ru_maxrss after an exec starts from the
# forking process's peak.
PEAK = ("import sys\nfrom rag.cli import main\nrc = main(sys.argv[1:])\nprint('peak_kb', next("
        "line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))\n"
        "sys.exit(rc)")


def write_feed(path: Path, gib: float) -> tuple[int, int]:
    """Records and decompressed bytes written (just under `gib` GiB: the collection limit is 1 GiB)."""
    target, written, records = int(gib * 1024 ** 3) - 4096, 0, 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        while True:
            line = json.dumps({"id": f"wire-{records:09d}", "title": "Port traffic rises",
                               "published": "2024-05-02",
                               "url": f"https://news.example.com/wire/{records}", "text": STORY}) + "\n"
            if written + len(line) > target:
                return records, written
            out.write(line)
            written += len(line)
            records += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--cache", default=".cache/large-collection")
    args = parser.parse_args()
    cache = Path(args.cache)
    seeds, index = cache / f"seeds-{args.gib:g}", cache / "index"
    feed = seeds / "wire.jsonl.gz"
    if not feed.exists():
        seeds.mkdir(parents=True, exist_ok=True)
        for article in (ROOT / "seeds").iterdir():
            shutil.copy(article, seeds / article.name)
        records, size = write_feed(feed.with_suffix(".tmp"), args.gib)
        feed.with_suffix(".tmp").rename(feed)
        (seeds / ".feed.json").write_text(json.dumps({"records": records, "bytes": size}))
    meta = json.loads((seeds / ".feed.json").read_text())
    shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", PEAK, "index", "--seeds", str(seeds),
                          "--index-dir", str(index)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = run.stdout.strip().splitlines()
    result = {
        "records": meta["records"], "decompressed_bytes": meta["bytes"],
        "compressed_bytes": feed.stat().st_size,
        "ratio": round(meta["bytes"] / feed.stat().st_size, 1),
        "exit": run.returncode, "seconds": round(seconds, 1),
        "peak_rss_mb": round(int(lines[-1].split()[1]) / 1024) if lines and lines[-1].startswith("peak_kb") else None,
        "summary": next((line for line in lines if " added, " in line), run.stderr[-500:]),
    }
    save("large-collection", result)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
