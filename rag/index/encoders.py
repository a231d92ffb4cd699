"""Faster encoders for the bundled MiniLM: OpenVINO or ONNX Runtime, chosen per CPU at start-up.

They read the same weights, tokenize the same way (256 tokens, as SentenceTransformer does for this
model), mean-pool over the attention mask and L2-normalise, so their vectors stay in the torch
model's space and an index built by any backend serves the others. The model is converted once,
offline, from the package's folder, into a cache folder; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "openvino", "onnx")
# Bump when the exported graph changes, so that caches of the old one are not reused.
EXPORT_VERSION = 1
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CPUINFO = Path("/proc/cpuinfo")


def cpu_flags() -> set[str]:
    try:
        text = CPUINFO.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def has_bf16_units(flags: set[str]) -> bool:
    # Without these units bf16 is emulated and runs slower than fp32.
    return bool(flags & {"avx512_bf16", "amx_bf16"})


@dataclass(frozen=True)
class Plan:
    backend: str  # torch | openvino | onnx
    precision: str  # fp32 | bf16 | int8
    reason: str


def plan(backend: str, precision: str, flags: set[str], installed=None) -> Plan:
    """Which backend and precision to run, from the settings and the CPU found.

    auto: OpenVINO where it is installed (the fastest measured, with torch's vectors, in bf16
    and in fp32: docs/benchmarks.md), else torch; bf16 only on CPUs with bf16 units. ONNX
    Runtime int8 is never chosen by itself: it moved a tenth of the top-10 neighbours on news
    and ran slower than OpenVINO bf16.
    """
    installed = installed or (lambda name: find_spec(name) is not None)
    if backend not in BACKENDS:
        raise ValueError(f"embed_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "onnx":
        # Dynamic int8 is the point of this backend: fp32 ONNX measured slower than torch.
        return Plan("onnx", "fp32" if precision == "fp32" else "int8", f"embed_precision={precision}")
    if precision == "auto":
        bf16 = has_bf16_units(flags)
        precision = "bf16" if bf16 else "fp32"
        why = "the CPU has bf16 units" if bf16 else "the CPU has no bf16 units"
    else:
        why = f"embed_precision={precision}"
    if precision == "int8":
        precision, why = "fp32", f"{why} (int8 needs embed_backend=onnx)"
    if backend == "auto":
        if installed("openvino"):
            return Plan("openvino", precision, f"auto: openvino is installed; {why}")
        return Plan("torch", precision, f"auto: openvino is not installed; {why}")
    return Plan(backend, precision, why)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsrag" / "encoders"


class ModelFolder:
    """The package's model folder: tokenizer, sequence limit, width and word-piece vectors."""

    def __init__(self, path: Path):
        self.path = Path(path)
        config = json.loads((self.path / "config.json").read_text())
        self.dimension = int(config["hidden_size"])
        st_config = self.path / "sentence_bert_config.json"
        self.max_seq_length = int(json.loads(st_config.read_text())["max_seq_length"]) if st_config.exists() \
            else int(config.get("max_position_embeddings", 512))

    def tokenizer(self, truncate: bool = True):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        # tokenizer.json carries a fixed 128-token padding and truncation; SentenceTransformer
        # pads to the longest text and cuts at max_seq_length.
        tok.no_padding()
        tok.no_truncation()
        if truncate:
            tok.enable_truncation(max_length=self.max_seq_length)
        return tok

    def word_vectors(self) -> np.ndarray:
        from safetensors import safe_open

        with safe_open(str(self.path / "model.safetensors"), framework="np") as f:
            [key] = [k for k in f.keys() if k.endswith("embeddings.word_embeddings.weight")]
            return np.asarray(f.get_tensor(key), dtype=np.float32)

    def fingerprint(self, *parts: str) -> str:
        digest = hashlib.sha256()
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            stat = (self.path / name).stat()
            digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
        digest.update(":".join([str(EXPORT_VERSION), *parts]).encode())
        return digest.hexdigest()[:16]


def _pooled_torch_model(folder: ModelFolder):
    """The HF encoder with SentenceTransformer's pooling and normalisation inside the graph."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=-1)

    model = AutoModel.from_pretrained(str(folder.path), torch_dtype=torch.float32).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    return Pooled(model).eval(), {"input_ids": ids, "attention_mask": ids,
                                  "token_type_ids": torch.zeros_like(ids)}


def _publish(build, target: Path) -> Path:
    """Build into a private folder and rename it into place: workers converting at once each
    finish whole, and a killed conversion leaves nothing that looks complete."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    scratch.mkdir()
    try:
        build(scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not target.exists():
                raise
    finally:
        if scratch.exists():
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _import_openvino():
    # `import openvino` reports usage to Google Analytics unless the user has opted out; the
    # product makes no outbound connection. Without its telemetry package OpenVINO uses a stub.
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)
    import openvino

    return openvino


class OpenVINOEncoder:
    def __init__(self, folder: ModelFolder, cache_dir: Path, precision: str, threads: int = 0):
        ov = _import_openvino()
        key = folder.fingerprint("openvino", metadata.version("openvino"))
        ir = _publish(lambda out: self._convert(ov, folder, out), cache_dir / f"minilm-openvino-{key}")
        config = {"INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
                  "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = ov.Core()
        self._model = core.compile_model(core.read_model(str(ir / "model.xml")), "CPU", config)
        self.precision = precision

    @staticmethod
    def _convert(ov, folder: ModelFolder, out: Path) -> None:
        import torch

        model, example = _pooled_torch_model(folder)
        with torch.no_grad():
            converted = ov.convert_model(model, example_input=example)
        # Full-precision weights on disk: fp16 storage would shift the fp32 vectors.
        ov.save_model(converted, str(out / "model.xml"), compress_to_fp16=False)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        # One request per call: a compiled model's default request is not safe across threads.
        request = self._model.create_infer_request()
        return np.array(request.infer(batch)[0], dtype=np.float32)


class OnnxEncoder:
    def __init__(self, folder: ModelFolder, cache_dir: Path, precision: str, threads: int = 0):
        import onnxruntime as ort

        key = folder.fingerprint("onnx", precision, metadata.version("onnxruntime"))
        exported = _publish(lambda out: self._export(folder, out, precision),
                            cache_dir / f"minilm-onnx-{precision}-{key}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(exported / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self.precision = precision

    @staticmethod
    def _export(folder: ModelFolder, out: Path, precision: str) -> None:
        import torch

        model, example = _pooled_torch_model(folder)
        fp32 = out / ("fp32.onnx" if precision == "int8" else "model.onnx")
        dynamic = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
        with torch.no_grad():
            # The TorchScript exporter: the dynamo one needs onnxscript, which is not installed.
            torch.onnx.export(model, tuple(example[n] for n in INPUTS), str(fp32), input_names=list(INPUTS),
                              output_names=["embedding"], dynamic_axes=dynamic, opset_version=17,
                              dynamo=False)
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=True)
            fp32.unlink()

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._session.run(None, batch)[0], dtype=np.float32)


class WordPieceMeans:
    """A sentence's mean word-piece vector from the model's own embedding table.

    A static embedding that ranks answer sentences as well as the full encoder did on news QA dev
    (0.461 vs 0.465 accuracy) at a hundredth of the cost.
    """

    def __init__(self, word_vectors: np.ndarray, vocab: dict[str, int], encode):
        from bm25s.stopwords import STOPWORDS_EN

        self._word_vectors = word_vectors
        self._encode = encode  # texts -> lists of word-piece ids, no special tokens
        stop = set(STOPWORDS_EN) | {"what", "which", "who", "whom", "how", "why", "when", "where", "about"}
        self._content_piece = np.ones(max(len(vocab), word_vectors.shape[0]) + 1, dtype=bool)
        for piece, index in vocab.items():
            if piece in stop or not any(ch.isalnum() for ch in piece):
                self._content_piece[index] = False

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._word_vectors.shape[1]), dtype=np.float32)
        for row, pieces in enumerate(self._encode(texts)):
            # Function words would pull every short question towards the same point.
            content = [p for p in pieces if self._content_piece[p]] or pieces
            if content:
                out[row] = self._word_vectors[content].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped by token length, so that a batch pads to about its own texts' length."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


class CompiledEmbedder:
    """The Embedder protocol over a converted encoder: no torch at run time once converted."""

    def __init__(self, folder: ModelFolder, encoder, name: str, batch_size: int = 64):
        self.name = name
        self.backend = type(encoder).__name__
        self.precision = encoder.precision
        self.dimension = folder.dimension
        self.batch_size = batch_size
        self._encoder = encoder
        self._tokenizer = folder.tokenizer()
        pieces = folder.tokenizer(truncate=False)
        self.quick = WordPieceMeans(
            folder.word_vectors(), pieces.get_vocab(),
            lambda texts: [e.ids for e in pieces.encode_batch(texts, add_special_tokens=False)])

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # SentenceTransformer strips each text before tokenizing.
        encodings = self._tokenizer.encode_batch([str(t).strip() for t in texts])
        batches = length_batches([len(e.ids) for e in encodings], self.batch_size)
        arrays = [_inputs([encodings[i] for i in batch]) for batch in batches]
        for batch, found in zip(batches, map(self._encoder, arrays)):
            out[batch] = found
        return out


def _inputs(encodings) -> dict[str, np.ndarray]:
    width = max(len(e.ids) for e in encodings)
    arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, e in enumerate(encodings):
        arrays["input_ids"][row, :len(e.ids)] = e.ids
        arrays["attention_mask"][row, :len(e.ids)] = e.attention_mask
        arrays["token_type_ids"][row, :len(e.ids)] = e.type_ids
    return arrays


ENCODERS = {"openvino": OpenVINOEncoder, "onnx": OnnxEncoder}


def compiled_embedder(chosen: Plan, model_path: Path, cache_dir: Path, name: str,
                      batch_size: int = 64, threads: int = 0) -> CompiledEmbedder:
    folder = ModelFolder(model_path)
    encoder = ENCODERS[chosen.backend](folder, cache_dir, chosen.precision, threads)
    return CompiledEmbedder(folder, encoder, name, batch_size)
