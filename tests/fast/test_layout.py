"""The layout is the architecture: each step imports only the steps before it, and the front ends
(CLI, HTTP, web chat) only the service layer, its models, the settings and the errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
FRONT_END_ALLOWED = ("rag.service", "rag.models", "rag.config", "rag.errors", "rag.access",
                     "rag.web", "ui")
# Each step and the packages it must never import (they come later in the flow).
LATER = {
    "rag/ingest": ("rag.index", "rag.answer", "rag.web", "rag.eval", "rag.service", "ui"),
    "rag/index": ("rag.answer", "rag.web", "rag.eval", "rag.service", "ui"),
    "rag/answer": ("rag.web", "rag.eval", "rag.service", "ui"),
    "rag/service.py": ("rag.web", "rag.eval", "ui"),
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


@pytest.mark.parametrize("path", python_files("rag/web", "ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_front_ends_import_only_the_service_layer(path):
    bad = {m for m in imported_modules(path) if m != "rag" and not m.startswith(FRONT_END_ALLOWED)}
    assert not bad, f"{path.name} reaches past the service layer: {sorted(bad)}"


def test_cli_imports_only_the_service_layer():
    allowed = FRONT_END_ALLOWED + ("rag.cli", "rag.eval")
    bad = {m for m in imported_modules(ROOT / "rag/cli.py") if not m.startswith(allowed)}
    assert not bad, sorted(bad)


@pytest.mark.parametrize("step", sorted(LATER))
def test_no_step_imports_a_later_one(step):
    for path in python_files(step):
        bad = {m for m in imported_modules(path) if m.startswith(LATER[step])}
        assert not bad, f"{path.relative_to(ROOT)} imports later steps: {sorted(bad)}"
