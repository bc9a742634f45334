"""The embedder: one model per process and backend (ONNX Runtime or PyTorch), loaded lazily, offline."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np

from capmatch.errors import CapmatchError

if TYPE_CHECKING:
    from capmatch.settings import Settings

from capmatch.embeddings.encoder import (  # noqa: F401 - the public names stay importable from here
    DEFAULT_MODEL,
    CachedEmbedder,
    Embedder,
    resolve_model_path,
    tokenizer_lowercases,
)


class SentenceTransformerEmbedder(CachedEmbedder):
    """The PyTorch backend: sentence-transformers itself (the reference the ONNX encoder is tested against)."""

    backend = "torch"

    def __init__(self, model_name: str = DEFAULT_MODEL, cache_size: int = 8192) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # status output is ours to give, on stderr

        path = resolve_model_path(model_name)
        self._model = SentenceTransformer(path, device="cpu")
        dimension = int(self._model.get_embedding_dimension() or 0)
        super().__init__(model_name, dimension, cache_size, lowercases=tokenizer_lowercases(path))

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        # inference_mode skips autograd's version counters: a one-query search spends
        # 15 ms here instead of 20 ms on the 2-core machine, with identical vectors.
        with torch.inference_mode():
            return self._model.encode(
                texts,
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )


_EMBEDDERS: dict[tuple[str, str], CachedEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()
_ONNX_FAILED: set[str] = set()
log = logging.getLogger(__name__)


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def get_embedder(model_name: str = DEFAULT_MODEL, backend: str | None = None) -> CachedEmbedder:
    """Loaded once per process, model name and backend: loading takes seconds, encoding milliseconds.

    ``backend`` (default CAPMATCH_EMBEDDING_BACKEND): ``onnx`` (ONNX Runtime, see embeddings/onnx.py),
    ``torch`` (sentence-transformers), or ``auto``: onnx when onnxruntime imports and the model
    exports, torch otherwise.
    """
    from capmatch.settings import get_settings

    settings = get_settings()
    backend = backend or settings.embedding_backend
    if backend not in ("auto", "onnx", "torch"):
        raise CapmatchError(f"unknown embedding backend {backend!r}: use auto, onnx or torch")
    with _EMBEDDERS_LOCK:
        if backend == "auto":
            backend = "onnx" if onnx_available() and model_name not in _ONNX_FAILED else "torch"
            if backend == "onnx" and (model_name, "onnx") not in _EMBEDDERS:
                try:
                    _EMBEDDERS[(model_name, "onnx")] = _onnx_embedder(model_name, settings)
                except Exception as exc:  # any export or runtime failure: the PyTorch model still works
                    log.warning("ONNX encoder unavailable (%s); using PyTorch", exc)
                    _ONNX_FAILED.add(model_name)  # not tried again by this process
                    backend = "torch"
        key = (model_name, backend)
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = (
                _onnx_embedder(model_name, settings) if backend == "onnx" else SentenceTransformerEmbedder(model_name)
            )
        return _EMBEDDERS[key]


def _onnx_embedder(model_name: str, settings: Settings) -> CachedEmbedder:
    from capmatch.embeddings.onnx import OnnxEmbedder

    return OnnxEmbedder(
        model_name,
        threads=settings.embedding_threads,
        cache_dir=settings.embedding_cache_dir,
    )
