"""The vector index kept consistent with the catalog, which is the source of truth (it stores every
capability vector).

The FAISS index is derived: it records the catalog generation it reflects, and whenever that
differs from the catalog's (another process wrote, or a crash came between commit and save) it is
reloaded or rebuilt from the stored vectors. Writers change it inside the catalog's write
transaction (``updating``), and it is saved under the new generation before the commit; readers get
a view that takes the same in-process lock, because FAISS must not search while a writer adds or
removes ids.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capmatch.embeddings import index as vector_index
from capmatch.embeddings.index import IndexConfig, SearchableIndex, VectorIndex
from capmatch.errors import IndexMismatch
from capmatch.failpoints import failpoint
from capmatch.storage.base import Catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStatus:
    kind: str
    count: int
    generation: str
    rebuilt: bool


@dataclass(frozen=True)
class IndexOptions:
    folder: Path
    model: str
    kind: str = "auto"
    ivf_threshold: int = 20_000
    nprobe: int = 32


class LiveIndex:
    def __init__(self, catalog: Catalog, options: IndexOptions, model_dimension: Callable[[], int]) -> None:
        self.catalog = catalog
        self.options = options
        self._model_dimension = model_dimension  # loads the model: asked only when nothing else can tell
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._generation = ""

    # ---- readers ---------------------------------------------------------------------------
    def reader(self) -> SearchableIndex:
        """The index for queries, fresh with respect to the catalog on every call."""
        with self._lock:
            self._fresh()
        return _Guarded(self)

    # ---- writers (inside catalog.write()) ------------------------------------------------------
    @contextmanager
    def updating(self) -> Iterator[VectorIndex]:
        """The index to change alongside the rows of one catalog write. Saved under the catalog's new
        generation before the commit; if anything fails, the in-memory copy is dropped and reloaded
        from disk (an index saved under a generation that never committed is rejected and rebuilt)."""
        with self._lock:
            try:
                index = self._fresh()
                yield index
                generation = self.catalog.generation()
                if self._outgrown(index):
                    self._rebuild(generation)
                self._generation = generation
                self._save(generation)
                failpoint("index-saved")  # the index written under a generation not yet committed
            except BaseException:
                self._index = None
                self._generation = ""
                raise

    def rebuild(self) -> IndexStatus:
        """Rebuild from the stored vectors and save (inside catalog.write())."""
        self.check_model()
        with self._lock:
            generation = self.catalog.generation()
            self._rebuild(generation)
            self._save(generation)
            assert self._index is not None
            return IndexStatus(self._index.kind, self._index.count(), generation, True)

    def verify(self, dimension: int) -> IndexStatus:
        """At start-up (inside catalog.write()): the saved index must agree with the model and the
        catalog; rebuilt from stored vectors and saved if not."""
        with self._lock:
            if self._index is not None and self._index.dimension != dimension:
                raise IndexMismatch(
                    f"the index has dimension {self._index.dimension} but {self.options.model} gives {dimension}: "
                    "set CAPMATCH_EMBEDDING_MODEL to the model this catalog was built with"
                )
            vector_index.remove_leftovers(self.options.folder)  # a save killed half-way
            generation = self.catalog.generation()
            rebuilt = self._load_or_rebuild(generation)
            assert self._index is not None
            if self._index.count() != self.catalog.capability_count():
                self._rebuild(generation)
                rebuilt = True
            if rebuilt:
                self._save(generation)
            return IndexStatus(self._index.kind, self._index.count(), generation, rebuilt)

    def check_model(self) -> None:
        """Stored vectors are only comparable with vectors from the model that made them."""
        made_with = self.catalog.meta("embedding_model")
        if made_with is not None and made_with != self.options.model:
            raise IndexMismatch(
                f"this catalog's vectors were made with {made_with!r} but CAPMATCH_EMBEDDING_MODEL is "
                f"{self.options.model!r}. Set CAPMATCH_EMBEDDING_MODEL={made_with}, or use another "
                "CAPMATCH_HOME and re-ingest to switch models."
            )

    # ---- internals ---------------------------------------------------------------------------
    def _fresh(self) -> VectorIndex:
        generation = self.catalog.generation()
        if self._index is None or self._generation != generation:
            self._load_or_rebuild(generation)
        assert self._index is not None
        return self._index

    def dimension(self) -> int:
        """The vector dimension, without loading the model when the index or the catalog can tell."""
        config = vector_index.read_config(self.options.folder)
        if config is not None and config.model == self.options.model:
            return config.dimension
        stored = self.catalog.first_vector_dimension()
        return stored if stored is not None else self._model_dimension()

    def _load_or_rebuild(self, generation: str) -> bool:
        self.check_model()
        loaded = vector_index.load(self.options.folder, self.options.model, self.dimension())
        if loaded is not None and loaded[1].generation == generation:
            self._index, self._generation = loaded[0], generation
            return False
        self._rebuild(generation)
        return True

    def _rebuild(self, generation: str) -> None:
        dimension = self.dimension()
        ids, vectors = self._all_vectors(dimension)
        kind = vector_index.choose_kind(len(ids), self.options.kind, self.options.ivf_threshold)
        log.info("rebuilding %s index from %d stored vectors", kind, len(ids))
        self._index = vector_index.build(kind, ids, vectors, dimension, self.options.nprobe)
        self._generation = generation
        # Not saved here: only code inside a catalog write saves index files, so two processes never
        # write (or delete) them at once.

    def _all_vectors(self, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        id_parts, vector_parts = [], []
        for ids, vectors in self.catalog.iter_vectors():
            if vectors.shape[1] != dimension:
                raise IndexMismatch(
                    f"stored vectors have dimension {vectors.shape[1]}, the model gives {dimension}: the catalog "
                    "was embedded with another model; set CAPMATCH_EMBEDDING_MODEL back"
                )
            id_parts.append(ids)
            vector_parts.append(vectors)
        if not id_parts:
            return np.empty(0, dtype=np.int64), np.empty((0, dimension), dtype=np.float32)
        return np.concatenate(id_parts), np.vstack(vector_parts)

    def _save(self, generation: str) -> None:
        assert self._index is not None
        config = IndexConfig(
            model=self.options.model,
            dimension=self._index.dimension,
            kind=self._index.kind,
            count=self._index.count(),
            generation=generation,
            nprobe=self.options.nprobe if self._index.kind == "ivf" else None,
        )
        vector_index.save(self._index, self.options.folder, config)

    def _outgrown(self, index: VectorIndex) -> bool:
        """Time to switch flat -> IVF, or to retrain IVF lists sized for a much smaller catalog."""
        if index.count() == 0:
            return False
        wanted = vector_index.choose_kind(index.count(), self.options.kind, self.options.ivf_threshold)
        if wanted != index.kind:
            return wanted == "ivf" or self.options.kind != "auto"
        if index.kind == "ivf":
            return vector_index.ivf_lists(index.count()) > 2 * index.lists()
        return False


class _Guarded:
    """A reader's view: every call takes the live index's lock and sees the current generation."""

    def __init__(self, live: LiveIndex) -> None:
        self._live = live

    @property
    def kind(self) -> str:
        with self._live._lock:
            return self._live._fresh().kind

    @property
    def dimension(self) -> int:
        with self._live._lock:
            return self._live._fresh().dimension

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._live._lock:
            return self._live._fresh().search(vectors, k)

    def count(self) -> int:
        with self._live._lock:
            return self._live._fresh().count()
