"""Adding article files to the seeds folder: only supported types, a size limit (on the
decompressed size of a .gz), and names that cannot escape the folder or silently replace an
existing file."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import MAX_ARTICLE_FILE_BYTES, SUPPORTED_SUFFIXES
from rag.ingest.loading import suffix_of
from rag.ingest.reading import READ_ERRORS, Rejected, decompressed_size

MAX_UPLOAD_BYTES = MAX_ARTICLE_FILE_BYTES
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class UploadResult:
    saved: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def safe_name(name: str) -> str | None:
    """The bare file name with anything risky removed; None when nothing usable is left."""
    base = name.replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in (".", "..") or base.startswith("."):
        return None
    return base[:120]


def _size_problem(name: str, path: Path) -> str | None:
    """Why the file is too big or empty, if it is. A .gz is measured by what it expands to (read
    through, never kept): a small upload must not become a huge file in the seeds folder."""
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        return f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
    if size and name.lower().endswith(".gz"):
        try:
            size = decompressed_size(path, MAX_UPLOAD_BYTES)
        except Rejected as exc:
            return str(exc)
        except READ_ERRORS:
            return "not a readable gzip file"
    return "empty file" if size == 0 else None


def save_uploads(seeds_dir: Path, files: list[tuple[str, Path]], overwrite: bool = False) -> UploadResult:
    """Copy uploaded files (original name, temporary path) into the seeds folder."""
    result = UploadResult()
    seeds_dir.mkdir(parents=True, exist_ok=True)
    root = seeds_dir.resolve()
    for original, temp_path in files:
        name = safe_name(original)
        if name is None:
            result.rejected.append((original, "not a usable file name"))
            continue
        suffix = suffix_of(Path(name))
        if suffix not in SUPPORTED_SUFFIXES:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            result.rejected.append((original, f"unsupported file type '{suffix or name}' (allowed: {allowed})"))
            continue
        problem = _size_problem(name, Path(temp_path))
        if problem:
            result.rejected.append((original, problem))
            continue
        target = (root / name).resolve()
        if target.parent != root:
            result.rejected.append((original, "name escapes the seeds folder"))
            continue
        if target.exists() and not overwrite:
            result.rejected.append((original, f"{name} already exists (tick 'replace' to overwrite)"))
            continue
        tmp = target.with_name(f".{name}.uploading")
        shutil.copyfile(temp_path, tmp)
        os.replace(tmp, target)
        result.saved.append(name)
    return result
