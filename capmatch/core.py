"""CapMatch: the catalog, its vector index and the embedder, kept consistent with each other.

The SQLite database is the source of truth (it stores every capability vector). The FAISS index is
derived: it records the catalog generation it reflects, and whenever that differs from the
database's (another process wrote, or a crash came between commit and save) it is reloaded or
rebuilt from the stored vectors. All writes go through ``_write``: one transaction that changes the
rows, the contrast lines and the match edges together or not at all, after which the in-memory
index (changed alongside) is saved under the committed generation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from capmatch.embeddings import index as vector_index
from capmatch.embeddings.index import IndexConfig, SearchableIndex, VectorIndex
from capmatch.embeddings.model import Embedder, get_embedder
from capmatch.errors import IndexMismatch, InvalidInput
from capmatch.failpoints import failpoint
from capmatch.models import Stage, Tool
from capmatch.settings import Settings
from capmatch.storage.catalog import CatalogStore, NewCapability
from capmatch.storage.jobs import JobStore
from capmatch.storage.transfer import read_import, write_export

log = logging.getLogger(__name__)
Progress = Callable[[Stage, float], None]


def no_progress(stage: Stage, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class StoreResult:
    tool: Tool
    created: bool
    replaced: str | None


def _is_replaceable_url(url: str) -> bool:
    # "text:<name>" stands for an inline document and "local:<file name>" for a local file (two
    # folders may each have a README.md): two records of that kind are two tools.
    return not url.startswith(("text:", "local:"))


@dataclass(frozen=True)
class IndexStatus:
    kind: str
    count: int
    generation: str
    rebuilt: bool


class CapMatch:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = CatalogStore(settings.db_path)
        self.jobs = JobStore(self.store)
        self._embedder = embedder
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._index_generation = ""
        self._derived: dict[str, tuple[str, object]] = {}
        self._query_gate = threading.BoundedSemaphore(settings.query_concurrency)

    # ---- embedder and index -----------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedding_model)
        return self._embedder

    def index(self) -> SearchableIndex:
        """The index for readers: each call is made fresh with respect to the database and runs under
        the core's lock, because FAISS must not search while a writer adds or removes ids."""
        with self._lock:
            self._fresh_index_locked()
        return _GuardedIndex(self)

    def _dimension(self) -> int:
        """The vector dimension, without loading the model when the index or the database can tell."""
        if self._embedder is not None:
            return self._embedder.dimension
        config = vector_index.read_config(self.settings.index_dir)
        if config is not None and config.model == self.settings.embedding_model:
            return config.dimension
        stored = self.store.first_vector_dimension()
        return stored if stored is not None else self.embedder.dimension

    def _check_model(self) -> None:
        """Stored vectors are only comparable with vectors from the model that made them."""
        made_with = self.store.meta("embedding_model")
        if made_with is not None and made_with != self.settings.embedding_model:
            raise IndexMismatch(
                f"this catalog's vectors were made with {made_with!r} but CAPMATCH_EMBEDDING_MODEL is "
                f"{self.settings.embedding_model!r}. Set CAPMATCH_EMBEDDING_MODEL={made_with}, or use another "
                "CAPMATCH_HOME and re-ingest to switch models."
            )

    def _load_or_rebuild(self, generation: str) -> bool:
        self._check_model()
        loaded = vector_index.load(self.settings.index_dir, self.settings.embedding_model, self._dimension())
        if loaded is not None and loaded[1].generation == generation:
            self._index, self._index_generation = loaded[0], generation
            return False
        self._rebuild(generation)
        return True

    def _rebuild(self, generation: str) -> None:
        ids, vectors = self._all_vectors()
        kind = vector_index.choose_kind(len(ids), self.settings.index_type, self.settings.ivf_threshold)
        log.info("rebuilding %s index from %d stored vectors", kind, len(ids))
        self._index = vector_index.build(kind, ids, vectors, self._dimension(), self.settings.ivf_nprobe)
        self._index_generation = generation
        # Not saved here: only code holding the database write lock writes index files (see _exclusive).

    def _all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        id_parts, vector_parts = [], []
        dimension = self._dimension()
        for ids, vectors in self.store.iter_vectors():
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
            model=self.settings.embedding_model,
            dimension=self._index.dimension,
            kind=self._index.kind,
            count=self._index.count(),
            generation=generation,
            nprobe=self.settings.ivf_nprobe if self._index.kind == "ivf" else None,
        )
        vector_index.save(self._index, self.settings.index_dir, config)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The database write lock, then the in-process lock: the only place index files are written,
        so two processes never write (or delete) them at once."""
        conn = self.store.conn
        conn.execute("BEGIN IMMEDIATE")
        with self._lock:
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def reindex(self) -> IndexStatus:
        self._check_model()
        with self._exclusive():
            generation = self.store.generation()
            self._rebuild(generation)
            self._save(generation)
            assert self._index is not None
            return IndexStatus(self._index.kind, self._index.count(), generation, True)

    def export_catalog(self, out: IO[str]) -> int:
        """Write the whole catalog to ``out`` (see catalog.transfer); returns the number of tools."""
        return write_export(self.store.conn, self.store.meta("embedding_model"), out)

    def import_catalog(self, path: Path) -> int:
        """Load an export into this catalog, which must be empty: everything lands or nothing does,
        and the vector index is rebuilt from the imported vectors before the commit."""
        with self._exclusive():
            present = self.store.tool_count()
            if present:
                raise InvalidInput(
                    f"the catalog in {self.settings.home} already has {present} tools: import into an empty one "
                    "(set CAPMATCH_HOME to a new folder); exports are restored, not merged"
                )
            tools = read_import(self.store.conn, path, self.settings.embedding_model, self._dimension())
            if self.store.meta("embedding_model") is None:
                self.store.set_meta("embedding_model", self.settings.embedding_model)
            generation = self.store.bump_generation()
            self._rebuild(generation)
            self._save(generation)
        return tools

    def verify_index(self) -> IndexStatus:
        """At start-up: load the model, and make sure the saved index agrees with it and with the
        database, rebuilding from stored vectors (and saving) if not."""
        embedder = self.embedder
        with self._exclusive():
            if self._index is not None and self._index.dimension != embedder.dimension:
                raise IndexMismatch(
                    f"the index has dimension {self._index.dimension} but {self.settings.embedding_model} gives "
                    f"{embedder.dimension}: set CAPMATCH_EMBEDDING_MODEL to the model this catalog was built with"
                )
            vector_index.remove_leftovers(self.settings.index_dir)  # a save killed half-way
            generation = self.store.generation()
            rebuilt = self._load_or_rebuild(generation)
            assert self._index is not None
            if self._index.count() != self.store.capability_count():
                self._rebuild(generation)
                rebuilt = True
            if rebuilt:
                self._save(generation)
            return IndexStatus(self._index.kind, self._index.count(), generation, rebuilt)

    @contextmanager
    def querying(self) -> Iterator[None]:
        """Hold while computing a read query in a server. Queries are CPU-bound Python between
        short C calls (SQLite, FAISS, torch); many at once on a small machine convoy on the GIL and
        SQLite's busy waits. Measured on 2 cores, 8 threads searching: 183 searches/s all at once,
        363/s one at a time (docs/benchmarks.md)."""
        with self._query_gate:
            yield

    # ---- derived data cached per generation ---------------------------------------------------
    def cached(self, key: str, compute: Callable[[], object]) -> object:
        generation = self.store.generation()
        hit = self._derived.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = compute()
        self._derived[key] = (generation, value)
        return value

    # ---- writes --------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[VectorIndex]:
        """One writer at a time; rows, contrast lines, match edges and the saved index change together.

        The database lock is taken first, so queries in this process never wait behind another
        process's write. The index is saved while the lock is held, under the new generation token;
        if anything fails before COMMIT the rows roll back, and an index saved under a token that
        was never committed is rejected by ``load`` and rebuilt.
        """
        conn = self.store.conn
        conn.execute("BEGIN IMMEDIATE")
        with self._lock:
            try:
                index = self._fresh_index_locked()
                yield index
                generation = self.store.generation()
                if self._outgrown(index):
                    self._rebuild(generation)
                self._index_generation = generation
                self._save(generation)
                failpoint("index-saved")  # the index written under a generation not yet committed
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # The in-memory index may hold part of the change: reload it from disk next time.
                self._index = None
                self._index_generation = ""
                raise

    def _outgrown(self, index: VectorIndex) -> bool:
        """Time to switch flat -> IVF, or to retrain IVF lists sized for a much smaller catalog."""
        if index.count() == 0:
            return False
        wanted = vector_index.choose_kind(index.count(), self.settings.index_type, self.settings.ivf_threshold)
        if wanted != index.kind:
            return wanted == "ivf" or self.settings.index_type != "auto"
        if index.kind == "ivf":
            return vector_index.ivf_lists(index.count()) > 2 * index.faiss_index().nlist
        return False

    def _fresh_index_locked(self) -> VectorIndex:
        generation = self.store.generation()
        if self._index is None or self._index_generation != generation:
            self._load_or_rebuild(generation)
        assert self._index is not None
        return self._index

    def store_tool(
        self,
        tool: Tool,
        source_text: str,
        capabilities: list[NewCapability],
        identity: np.ndarray | None = None,
        progress: Progress = no_progress,
    ) -> StoreResult:
        """Store ``tool`` (its id is a slug to start from), replacing an earlier version if any.

        Which tool to replace and which id to use are decided here, inside the write lock, so two
        processes ingesting the same page at once store it once.
        """
        from capmatch.matching.contrast import refresh_after_change

        with self._write() as index:
            self._check_model()
            if self.store.meta("embedding_model") is None:
                self.store.set_meta("embedding_model", self.settings.embedding_model)
            same = self.store.find_by_hash(tool.content_hash)
            if same is not None and self.store.extraction_of(same)[1:] == (tool.extractor, tool.extractor_version):
                return StoreResult(self.store.get_tool(same), created=False, replaced=None)
            replace = same or (self.store.find_by_url(tool.url) if _is_replaceable_url(tool.url) else None)
            progress(Stage.INDEXING, 0.8)
            affected: set[str] = set()
            if replace is not None:
                previous = self.store.get_tool(replace, with_capabilities=False)
                # A new version of the same tool keeps its identity and its history.
                tool = tool.model_copy(
                    update={"id": replace, "times_matched": previous.times_matched, "created_at": previous.created_at}
                )
                affected |= self.store.tools_naming(replace)
                index.remove(np.asarray(self.store.delete_tool(replace), dtype=np.int64))
            else:
                tool = tool.model_copy(update={"id": self._free_id(tool.id)})
            ids = self.store.insert_tool(tool, source_text, capabilities, identity)
            index.add(np.asarray(ids, dtype=np.int64), np.vstack([c.vector for c in capabilities]))
            progress(Stage.CONTRASTING, 0.88)
            refresh_after_change(self, index, changed=tool.id, affected=affected - {tool.id})
            progress(Stage.STORING, 0.95)
        return StoreResult(self.store.get_tool(tool.id), created=True, replaced=replace)

    def _free_id(self, base: str) -> str:
        candidate, n = base, 2
        while self.store.tool_exists(candidate):
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def delete_tool(self, tool_id: str) -> None:
        from capmatch.matching.contrast import refresh_after_change

        with self._write() as index:
            affected = self.store.tools_naming(tool_id)
            index.remove(np.asarray(self.store.delete_tool(tool_id), dtype=np.int64))
            refresh_after_change(self, index, changed=None, affected=affected - {tool_id})


class _GuardedIndex:
    def __init__(self, core: CapMatch) -> None:
        self._core = core

    def _current(self) -> VectorIndex:
        return self._core._fresh_index_locked()

    @property
    def kind(self) -> str:
        with self._core._lock:
            return self._current().kind

    @property
    def dimension(self) -> int:
        with self._core._lock:
            return self._current().dimension

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._core._lock:
            return self._current().search(vectors, k)

    def count(self) -> int:
        with self._core._lock:
            return self._current().count()
