"""The encoder backend chosen per CPU at start-up, and the fall-back to torch (no model loaded)."""

from __future__ import annotations

import logging

import pytest

from rag.config import Settings
from rag.index import embedding, encoders

pytestmark = pytest.mark.fast

EPYC_GENOA = "fpu vme sse4_2 avx avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni"
SAPPHIRE_RAPIDS = "fpu sse4_2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8"
EPYC_MILAN = "fpu vme sse4_2 avx avx2 fma bmi2 sha_ni"


def cpu(tmp_path, monkeypatch, flags: str) -> set[str]:
    info = tmp_path / "cpuinfo"
    # Two processors, as /proc/cpuinfo lists them: the flags are read from the first.
    info.write_text("".join(f"processor\t: {n}\nmodel name\t: test\nflags\t\t: {flags}\n\n" for n in range(2)))
    monkeypatch.setattr(encoders, "CPUINFO", info)
    return encoders.cpu_flags()


def with_openvino(name):
    return True


def without_openvino(name):
    return name != "openvino"


@pytest.mark.parametrize("flags, precision", [(EPYC_GENOA, "bf16"), (SAPPHIRE_RAPIDS, "bf16"),
                                              (EPYC_MILAN, "fp32")])
def test_auto_takes_openvino_in_the_cpus_precision(tmp_path, monkeypatch, flags, precision):
    chosen = encoders.plan("auto", "auto", cpu(tmp_path, monkeypatch, flags), with_openvino)
    assert (chosen.backend, chosen.precision) == ("openvino", precision)
    assert embedding.cpu_has_fast_bf16() is (precision == "bf16")


@pytest.mark.parametrize("flags, precision", [(EPYC_GENOA, "bf16"), (EPYC_MILAN, "fp32")])
def test_auto_without_openvino_is_the_torch_path(tmp_path, monkeypatch, flags, precision):
    chosen = encoders.plan("auto", "auto", cpu(tmp_path, monkeypatch, flags), without_openvino)
    assert (chosen.backend, chosen.precision) == ("torch", precision)
    assert "not installed" in chosen.reason


def test_an_unreadable_cpuinfo_means_no_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr(encoders, "CPUINFO", tmp_path / "missing")
    assert encoders.plan("auto", "auto", encoders.cpu_flags(), with_openvino).precision == "fp32"


def test_settings_override_the_cpu(tmp_path, monkeypatch):
    flags = cpu(tmp_path, monkeypatch, EPYC_MILAN)
    assert encoders.plan("torch", "bf16", flags, with_openvino) == encoders.Plan("torch", "bf16", "embed_precision=bf16")
    assert encoders.plan("onnx", "auto", flags, with_openvino).precision == "int8"
    assert encoders.plan("onnx", "fp32", flags, with_openvino).precision == "fp32"
    # int8 exists only as ONNX Runtime's quantised model.
    assert encoders.plan("openvino", "int8", flags, with_openvino).precision == "fp32"
    with pytest.raises(ValueError):
        encoders.plan("tensorrt", "auto", flags, with_openvino)


def test_the_setting_reads_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_EMBED_BACKEND", "onnx")
    assert Settings(_env_file=None).embed_backend == "onnx"
    monkeypatch.setenv("RAG_EMBED_BACKEND", "cuda")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


class FakeTorch:
    def __init__(self, precision, batch_size):
        self.precision, self.batch_size = precision, batch_size


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(embedding, "_LOCAL", {})
    monkeypatch.setattr(embedding, "LocalEmbedder", FakeTorch)


def test_a_failed_conversion_falls_back_to_torch_and_says_why(tmp_path, monkeypatch, fresh_cache, caplog):
    cpu(tmp_path, monkeypatch, EPYC_GENOA)

    def broken(*args, **kwargs):
        raise RuntimeError("conversion failed: unsupported operation")

    monkeypatch.setattr(encoders, "compiled_embedder", broken)
    with caplog.at_level(logging.WARNING, logger="rag.index.embedding"):
        chosen = embedding.get_embedder(Settings(_env_file=None, embed_backend="openvino",
                                                 embed_cache_dir=tmp_path / "cache"))
    assert isinstance(chosen, FakeTorch) and chosen.precision == "bf16"
    assert "conversion failed" in caplog.text and "openvino" in caplog.text


def test_a_missing_package_falls_back_to_torch(tmp_path, monkeypatch, fresh_cache, caplog):
    cpu(tmp_path, monkeypatch, EPYC_MILAN)
    # What a machine without onnxruntime (or openvino) meets on import.
    monkeypatch.setitem(encoders.ENCODERS, "onnx", lambda *a: __import__("no_such_engine"))
    with caplog.at_level(logging.WARNING, logger="rag.index.embedding"):
        chosen = embedding.get_embedder(Settings(_env_file=None, embed_backend="onnx",
                                                 embed_cache_dir=tmp_path / "cache"))
    assert isinstance(chosen, FakeTorch) and chosen.precision == "fp32"
    assert "ModuleNotFoundError" in caplog.text


def test_length_batches_group_similar_lengths():
    batches = encoders.length_batches([5, 50, 7, 49, 6, 48], 2)
    assert batches == [[1, 3], [5, 2], [4, 0]]
    assert sorted(i for b in encoders.length_batches(list(range(130)), 64) for i in b) == list(range(130))
