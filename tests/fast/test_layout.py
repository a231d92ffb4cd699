"""The layout is the architecture: each step imports only the steps before it, and the front ends
(CLI, HTTP, web chat) only the service layer, its models, the settings and the errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
SERVICE_LAYER = ("rag.service", "rag.models", "rag.config", "rag.errors", "rag.access", "rag.lexicon")
# What each front end may import from the product: the service layer and its own package.
FRONT_ENDS = {
    "rag/web": SERVICE_LAYER + ("rag.web",),
    "ui": SERVICE_LAYER + ("ui",),
    # `rag eval` and `rag feedback` are tools over the service's results, with modules of their own.
    "rag/cli.py": SERVICE_LAYER + ("rag.cli", "rag.eval.run", "rag.conversations.feedback", "rag.web.server"),
}
# Each step and the packages it must never import (they come later in the flow).
LATER = {
    "rag/ingest": ("rag.index", "rag.answer", "rag.web", "rag.eval", "rag.service", "rag.rebuilds", "ui"),
    "rag/index": ("rag.answer", "rag.web", "rag.eval", "rag.service", "rag.rebuilds", "ui"),
    "rag/answer": ("rag.web", "rag.eval", "rag.service", "rag.rebuilds", "ui"),
    "rag/conversations": ("rag.answer", "rag.web", "rag.eval", "rag.service", "rag.rebuilds", "ui"),
    "rag/service.py": ("rag.web", "rag.eval", "ui"),
    "rag/rebuilds.py": ("rag.answer", "rag.web", "rag.eval", "ui"),
    # Shared by every step: the settings, errors and lexicon import nothing of the product.
    "rag/config.py": ("rag.",),
    "rag/errors.py": ("rag.",),
    "rag/lexicon.py": ("rag.",),
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if node.module in ("rag", "rag.web", "ui"))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "rag" or n.startswith(("rag.", "ui"))}


def python_files(*parts: str) -> list[Path]:
    out = []
    for part in parts:
        path = ROOT / part
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


@pytest.mark.parametrize("front_end", sorted(FRONT_ENDS))
def test_front_ends_import_only_the_service_layer(front_end):
    for path in python_files(front_end):
        bad = {m for m in imported_modules(path) if m != "rag" and not m.startswith(FRONT_ENDS[front_end])}
        # The server mounts the web chat: the one place where the HTTP app meets the UI.
        if path.name == "server.py":
            bad -= {"ui.app"}
        assert not bad, f"{path.relative_to(ROOT)} reaches past the service layer: {sorted(bad)}"


@pytest.mark.parametrize("step", sorted(LATER))
def test_no_step_imports_a_later_one(step):
    for path in python_files(step):
        bad = {m for m in imported_modules(path) if m.startswith(LATER[step])}
        assert not bad, f"{path.relative_to(ROOT)} imports later steps: {sorted(bad)}"
