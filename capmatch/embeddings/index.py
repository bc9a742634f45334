"""The vector index behind one small interface: add, remove, search, save, load, count.

Capability vectors are L2-normalised, so inner product is cosine similarity. Ids are int64
capability row ids. Two backends, chosen by catalog size (see ``choose_kind``):

- ``flat``: exact search (IndexFlatIP). Fast enough below ``CAPMATCH_IVF_THRESHOLD`` vectors.
- ``ivf``: inverted lists, approximate, with native removal; trained on the vectors it is built
  from, searched with ``nprobe`` lists. Vectors are stored as 8-bit scalar codes
  (IndexIVFScalarQuantizer, QT_8bit: a quarter of IndexIVFFlat's memory, recall@10 measured by
  ``capmatch bench search``), or as float32 (IndexIVFFlat) with ``encoding="flat"``. Both load: the
  index file carries its own class, and the config records the kind and the encoding.

Indexes are saved as immutable snapshot files (capmatch.embeddings.snapshot); the manifest row that
records one names the model and dimension, checked on load (capmatch.embeddings.live) so an index
built with another model is never searched with this one.
"""

from __future__ import annotations

import math
from typing import Protocol

import faiss
import numpy as np

from capmatch.embeddings.onethread import one_thread
from capmatch.errors import IndexMismatch

ONE_THREAD_QUERIES = 64  # searches of at most this many vectors run on one thread


class SearchableIndex(Protocol):
    """What queries need; readers get this, writers get the full VectorIndex."""

    @property
    def kind(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def count(self) -> int: ...


class VectorIndex(Protocol):
    kind: str
    dimension: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> int: ...
    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def count(self) -> int: ...
    def lists(self) -> int: ...
    def faiss_index(self) -> faiss.Index: ...


class _FaissIndex:
    kind = "base"

    def __init__(self, index: faiss.Index, dimension: int) -> None:
        self._index = index
        self.dimension = dimension

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = _as_matrix(vectors, self.dimension)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))  # type: ignore[arg-type]

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vectors = _as_matrix(vectors, self.dimension)
        if self.count() == 0 or k <= 0:
            n = vectors.shape[0]
            return np.empty((n, 0), dtype=np.float32), np.empty((n, 0), dtype=np.int64)
        if len(vectors) > ONE_THREAD_QUERIES:
            return self._index.search(vectors, min(k, self.count()))
        # A query's or one tool's vectors: OpenMP threads only wait for each other on so few (see
        # embeddings.onethread; 34 ms per flat search of a 400-vector catalog under load, from ingestion's
        # contrast refresh). Benchmarks' thousands of queries keep every thread.
        with one_thread():
            return self._index.search(vectors, min(k, self.count()))

    def count(self) -> int:
        return int(self._index.ntotal)

    def faiss_index(self) -> faiss.Index:
        return self._index

    def lists(self) -> int:
        """Inverted lists of an IVF index (0 for exact search)."""
        return int(getattr(self._index, "nlist", 0))


class FlatIndex(_FaissIndex):
    kind = "flat"

    @classmethod
    def empty(cls, dimension: int) -> FlatIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension)


IVF_ENCODINGS = ("sq8", "flat")
DEFAULT_IVF_ENCODING = "sq8"


class IVFIndex(_FaissIndex):
    kind = "ivf"
    # Lists searched per query: measured by `capmatch bench search` for recall@10 >= 0.95.
    DEFAULT_NPROBE = 32

    @property
    def encoding(self) -> str:
        return "sq8" if isinstance(self._index, faiss.IndexIVFScalarQuantizer) else "flat"

    @classmethod
    def trained_on(
        cls, vectors: np.ndarray, nprobe: int | None = None, encoding: str = DEFAULT_IVF_ENCODING
    ) -> IVFIndex:
        if encoding not in IVF_ENCODINGS:
            raise ValueError(f"unknown IVF encoding {encoding!r}: use one of {IVF_ENCODINGS}")
        vectors = _as_matrix(vectors, vectors.shape[1])
        dimension = vectors.shape[1]
        nlist = ivf_lists(len(vectors))
        quantizer = faiss.IndexFlatIP(dimension)
        index: faiss.IndexIVF
        if encoding == "sq8":
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
        else:
            index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors
        if len(vectors) > nlist * 64:
            rng = np.random.default_rng(0)  # deterministic training sample
            sample = vectors[rng.choice(len(vectors), nlist * 64, replace=False)]
        index.train(sample)
        index.nprobe = nprobe or cls.DEFAULT_NPROBE
        return cls(index, dimension)


def ivf_lists(n: int) -> int:
    # ~4·sqrt(n) lists, but never fewer than 39 training points per list (k-means needs them).
    return max(1, min(65536, int(4 * math.sqrt(max(n, 1))), n // 39))


def choose_kind(count: int, configured: str, threshold: int) -> str:
    if configured != "auto":
        return configured
    return "ivf" if count >= threshold else "flat"


def build(
    kind: str,
    ids: np.ndarray,
    vectors: np.ndarray,
    dimension: int,
    nprobe: int | None = None,
    encoding: str = DEFAULT_IVF_ENCODING,
) -> VectorIndex:
    """Build an index of ``kind`` holding exactly ``ids`` -> ``vectors`` (``encoding``: IVF codes)."""
    index: VectorIndex
    # IVF must be trained on vectors; with none yet it starts flat and is rebuilt once vectors arrive.
    if kind == "ivf" and len(ids) > 0:
        index = IVFIndex.trained_on(vectors, nprobe, encoding)
    else:
        index = FlatIndex.empty(dimension)
    index.add(ids, vectors)
    return index


def _as_matrix(vectors: np.ndarray, dimension: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
    if matrix.shape[1] != dimension:
        raise IndexMismatch(f"vector dimension {matrix.shape[1]} does not match the index ({dimension})")
    return matrix
