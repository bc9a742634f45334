"""The vector index behind one small interface: add, remove, search, save, load, count.

Capability vectors are L2-normalised, so inner product is cosine similarity. Ids are int64
capability row ids. Two backends, chosen by catalog size (see ``choose_kind``):

- ``flat``: exact search (IndexFlatIP). Fast enough below ``CAPMATCH_IVF_THRESHOLD`` vectors.
- ``ivf``: inverted lists, approximate, with native removal; trained on the vectors it is built
  from, searched with ``nprobe`` lists. Vectors are stored as 8-bit scalar codes
  (IndexIVFScalarQuantizer, QT_8bit: a quarter of IndexIVFFlat's memory, recall@10 measured by
  ``capmatch bench search``), or as float32 (IndexIVFFlat) with ``encoding="flat"``. Both load: the
  index file carries its own class, and the config records the kind and the encoding.

A ``config.json`` beside the index records the model, dimension, kind and catalog generation; it is
checked on load so an index built with another model is never searched with this one.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from capmatch.embeddings.onethread import one_thread
from capmatch.errors import IndexMismatch

CONFIG_FILE = "config.json"
ONE_THREAD_QUERIES = 64  # searches of at most this many vectors run on one thread


@dataclass
class IndexConfig:
    model: str
    dimension: int
    kind: str
    count: int
    generation: str
    nprobe: int | None = None
    file: str = ""  # the index file this config vouches for; set by save()
    encoding: str | None = None  # ivf only: "sq8" or "flat" (None in configs written before SQ8); set by save()


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


def save(index: VectorIndex, folder: Path, config: IndexConfig) -> None:
    """Write the index to a file named by generation, then the config that names it.

    The config is the commit point: until it is replaced, the previous config still names the
    previous file, which is only deleted afterwards. A crash at any moment leaves a config and an
    index file that belong together; ``load`` compares its generation with the database's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    config.file = f"index-{config.generation}.faiss"
    config.encoding = index.encoding if isinstance(index, IVFIndex) else None
    tmp_index = folder / (config.file + ".tmp")
    faiss.write_index(index.faiss_index(), str(tmp_index))
    os.replace(tmp_index, folder / config.file)
    tmp_config = folder / (CONFIG_FILE + ".tmp")
    tmp_config.write_text(json.dumps(asdict(config), indent=2), encoding="utf-8")
    os.replace(tmp_config, folder / CONFIG_FILE)
    for old in folder.glob("index-*.faiss"):
        if old.name != config.file:
            old.unlink(missing_ok=True)


def remove_leftovers(folder: Path) -> int:
    """Delete temporary files of a save that never finished (a process killed mid-save). Call only
    while holding the database write lock, as save() does: then no save is in progress."""
    removed = 0
    for tmp in [*folder.glob("index-*.faiss.tmp"), folder / (CONFIG_FILE + ".tmp")]:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def read_config(folder: Path) -> IndexConfig | None:
    path = folder / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return IndexConfig(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def load(folder: Path, model: str, dimension: int) -> tuple[VectorIndex, IndexConfig] | None:
    """Load the saved index; None when there is none or it is unreadable (the caller rebuilds)."""
    config = read_config(folder)
    if config is None or not config.file or not (folder / config.file).exists():
        return None
    if config.model != model or config.dimension != dimension:
        raise IndexMismatch(
            f"the saved index was built with model {config.model!r} (dimension {config.dimension}) but "
            f"capmatch is configured for {model!r}. Set CAPMATCH_EMBEDDING_MODEL={config.model} "
            "(switching models means re-ingesting the catalog into a new CAPMATCH_HOME)."
        )
    try:
        raw = faiss.read_index(str(folder / config.file))
    except (RuntimeError, OSError):  # e.g. replaced by a newer save a moment ago
        return None
    if int(raw.ntotal) != config.count:
        return None
    index: VectorIndex
    # read_index already returns the concrete class; keep that object (a downcast copy would not own it).
    if config.kind == "ivf" and isinstance(raw, faiss.IndexIVFFlat | faiss.IndexIVFScalarQuantizer):
        raw.nprobe = config.nprobe or IVFIndex.DEFAULT_NPROBE
        index = IVFIndex(raw, dimension)
    else:
        index = FlatIndex(raw, dimension)
    return index, config


def _as_matrix(vectors: np.ndarray, dimension: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
    if matrix.shape[1] != dimension:
        raise IndexMismatch(f"vector dimension {matrix.shape[1]} does not match the index ({dimension})")
    return matrix
