"""The vector index kept consistent with the catalog, which is the source of truth (it stores every
capability vector and, in ``vector_changes``, every add and delete in commit order).

Each process holds a ``DeltaIndex``: the newest snapshot recorded in the manifest (or, when none can
be read, one built from the stored vectors) plus the changes after it. Readers poll the change log
(every call on SQLite, about once a second on PostgreSQL: ``poll_seconds``) and apply what is new;
a write never rewrites the index file, it only appends its change rows. Snapshots are folded by the
process that writes (``inline``) or by ``capmatch indexer`` once the delta passes
``snapshot_changes``, or when the catalog outgrew the index kind (flat -> IVF, IVF lists retrained).

Writers change a ``Pending`` view inside the catalog's write transaction (``updating``), so contrast
lines see the new vectors before the commit; the view is dropped after it and the committed rows are
read back, so a transaction that rolls back leaves nothing behind. FAISS must not search while the
index changes, so every access takes this object's lock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from capmatch.embeddings import index as vector_index
from capmatch.embeddings import snapshot as snapshot_files
from capmatch.embeddings.delta import DeltaIndex, Pending
from capmatch.embeddings.index import SearchableIndex, VectorIndex
from capmatch.errors import IndexMismatch
from capmatch.failpoints import failpoint
from capmatch.storage.base import Catalog
from capmatch.storage.vector_log import ADD, DELETE, RESET, Change, Snapshot

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
    poll_seconds: float = 0.0  # how stale a reader may be; 0: look at the change log on every query
    snapshot_changes: int = 1000  # fold the delta into a new snapshot once it holds this many changes
    inline_snapshots: bool = True  # the writing process folds; False: `capmatch indexer` does


class LiveIndex:
    def __init__(self, catalog: Catalog, options: IndexOptions, model_dimension: Callable[[], int]) -> None:
        self.catalog = catalog
        self.options = options
        self._model_dimension = model_dimension  # loads the model: asked only when nothing else can tell
        self._lock = threading.RLock()
        self._folding = threading.Lock()  # one snapshot at a time per process
        self._index: DeltaIndex | None = None
        self._base_seq = 0  # the snapshot (or catalog read) the base reflects
        self._cursor = 0  # changes applied up to and including this seq
        self._base_from_catalog = False  # the base may hold vectors added after _base_seq (see _catch_up)
        self._unreadable = 0  # a recorded snapshot this process cannot read (not in its folder)
        self._polled = -math.inf

    # ---- readers ---------------------------------------------------------------------------
    def reader(self) -> SearchableIndex:
        """The index for queries, at most ``poll_seconds`` behind the catalog."""
        with self._lock:
            self._fresh()
        return _Guarded(self)

    # ---- writers (inside catalog.write()) ------------------------------------------------------
    @contextmanager
    def updating(self) -> Iterator[VectorIndex]:
        """The index to change alongside the rows of one catalog write: the committed index caught up
        with the change log (the write lock is held, so nothing new can come in) plus this write's
        changes. Dropped afterwards: the next read applies the committed change rows."""
        with self._lock:
            try:
                pending = Pending(self._fresh(force=True))
                yield pending
                failpoint("index-saved")  # the index changed for a write not yet committed
            finally:
                self._polled = -math.inf  # read our own write at once, committed or rolled back

    def after_write(self) -> Snapshot | None:
        """After a commit: fold the delta into a snapshot when due and this process is to do it."""
        if not self.options.inline_snapshots:
            return None
        return self.snapshot()

    def rebuild(self) -> IndexStatus:
        """Rebuild from the stored vectors, as a new snapshot after a reset marker (inside
        catalog.write(): the manifest row commits with the catalog)."""
        self.check_model()
        with self._lock:
            seq = self.catalog.vector_log.reset()
            built = self._build_from_catalog(seq)
            self._write_snapshot(built, seq)
            self._use(DeltaIndex(built), seq)
            return IndexStatus(built.kind, built.count(), self.catalog.generation(), True)

    def refold(self) -> Snapshot:
        """A snapshot built afresh from every stored vector, as the index kind the catalog's size
        calls for (inside catalog.write(): the vectors read are exactly those at the newest seq)."""
        with self._lock:
            seq = self.catalog.vector_log.heads()[0]
            built = self._build_from_catalog(seq)
            recorded = self._write_snapshot(built, seq)
            self._use(DeltaIndex(built), seq)
            return recorded

    def verify(self, dimension: int) -> IndexStatus:
        """At start-up (inside catalog.write()): the index must agree with the model and the catalog;
        rebuilt from stored vectors and recorded as a snapshot if not."""
        with self._lock:
            if self._index is not None and self._index.dimension != dimension:
                raise IndexMismatch(
                    f"the index has dimension {self._index.dimension} but {self.options.model} gives {dimension}: "
                    "set CAPMATCH_EMBEDDING_MODEL to the model this catalog was built with"
                )
            snapshot_files.remove_leftovers(self.options.folder)  # writes killed half-way
            self.check_model()
            rebuilt = not self._load_newest()
            index = self._fresh(force=True)
            if index.count() != self.catalog.capability_count():
                rebuilt = True
            if rebuilt:
                self.refold()
                index = self._fresh(force=True)
            return IndexStatus(index.kind, index.count(), self.catalog.generation(), rebuilt)

    def snapshot(self, force: bool = False) -> Snapshot | None:
        """Fold the delta into a new snapshot and record it, if due (or ``force``); then forget the
        snapshots and changes no reader needs. Outside a catalog write: the manifest row commits by
        itself. Returns the snapshot recorded."""
        if not self._folding.acquire(blocking=False):
            return None  # another thread of this process is folding already
        try:
            return self._fold(force)
        finally:
            self._folding.release()

    def _fold(self, force: bool) -> Snapshot | None:
        with self._lock:
            index = self._fresh(force=True)
            seq = self._cursor
            newest = self.catalog.vector_log.newest_snapshot()
            unfolded = seq - (newest.seq if newest is not None else -1)  # changes (and gaps) since
            outgrown = self._outgrown(index)
            if not outgrown and (unfolded <= 0 or not (force or unfolded >= self.options.snapshot_changes)):
                return None
            folded = None if outgrown else index.folded()
        if folded is None:
            # Retrained on every stored vector: under the catalog's write lock (taken before ours),
            # so that the vectors read are exactly those of the snapshot's seq.
            with self.catalog.write():
                recorded = self.refold()
        else:
            # Written outside the lock: queries go on against the current index meanwhile.
            recorded = self._write_snapshot(folded, seq)
            with self._lock:
                self._use(DeltaIndex(folded), seq)  # later changes are applied again from seq on
        self._prune()
        return recorded

    def check_model(self) -> None:
        """Stored vectors are only comparable with vectors from the model that made them."""
        made_with = self.catalog.meta("embedding_model")
        if made_with is not None and made_with != self.options.model:
            raise IndexMismatch(
                f"this catalog's vectors were made with {made_with!r} but CAPMATCH_EMBEDDING_MODEL is "
                f"{self.options.model!r}. Set CAPMATCH_EMBEDDING_MODEL={made_with}, or use another "
                "CAPMATCH_HOME and re-ingest to switch models."
            )

    def dimension(self) -> int:
        """The vector dimension, without loading the model when the manifest or the catalog can tell."""
        newest = self.catalog.vector_log.newest_snapshot()
        if newest is not None and newest.model == self.options.model:
            return newest.dimension
        stored = self.catalog.first_vector_dimension()
        return stored if stored is not None else self._model_dimension()

    def status(self) -> tuple[int, int, int]:
        """(snapshot seq, applied seq, vectors in the delta): for health pages and tests."""
        with self._lock:
            index = self._fresh()
            return self._base_seq, self._cursor, index.delta_count()

    # ---- internals ---------------------------------------------------------------------------
    def _fresh(self, force: bool = False) -> DeltaIndex:
        if self._index is None:
            self.check_model()
            if not self._load_newest():
                self._use_catalog()
            self._catch_up()
        elif force or time.monotonic() - self._polled >= self.options.poll_seconds:
            self._poll()
        assert self._index is not None
        return self._index

    def _poll(self) -> None:
        newest_change, newest_snapshot = self.catalog.vector_log.heads()
        self._polled = time.monotonic()
        if newest_change <= self._cursor and newest_snapshot <= self._base_seq:
            return  # the common case: one small query, nothing new
        if newest_snapshot > max(self._base_seq, self._unreadable):
            self._load_newest()  # a newer snapshot: a smaller delta to keep (kept as is when unreadable)
        if self._cursor < self.catalog.vector_log.pruned_through():
            # Changes this process still needs were pruned and no snapshot could be read: start over.
            self._use_catalog()
        self._catch_up()

    def _catch_up(self) -> None:
        assert self._index is not None
        log_ = self.catalog.vector_log
        head = log_.heads()[0]  # every change up to here is committed: seq order is commit order
        changes = log_.changes_after(self._cursor, head)
        resets = [c.seq for c in changes if c.op == RESET]
        if resets:
            # A reindex or an import replaced everything: its snapshot, or the catalog, from scratch.
            if not self._load_newest() or self._base_seq < max(resets):
                self._use_catalog()
            head = max(head, self._cursor)
            changes = log_.changes_after(self._cursor, head)
        # A base built from the catalog may already hold vectors added after its seq (it was read
        # after the seq): those are moved to the side index, never counted twice.
        apply(self._index, changes, overlap=self._base_from_catalog)
        self._cursor = max(self._cursor, head)
        self._polled = time.monotonic()

    def _use(self, index: DeltaIndex, seq: int, from_catalog: bool = False) -> None:
        self._index, self._base_seq, self._cursor = index, seq, seq
        self._base_from_catalog = from_catalog

    def _use_catalog(self) -> None:
        """A base built from the stored vectors, outside the write lock: the seq is read first, so the
        vectors may include changes after it, which _catch_up then applies idempotently."""
        seq = self.catalog.vector_log.heads()[0]
        self._use(DeltaIndex(self._build_from_catalog(seq)), seq, from_catalog=True)

    def _load_newest(self) -> bool:
        """Switch to the newest recorded snapshot if it can be read here; False if it cannot."""
        newest = self.catalog.vector_log.newest_snapshot()
        if newest is None:
            return False
        if newest.model != self.options.model:
            raise IndexMismatch(
                f"the index snapshots were built with model {newest.model!r} but capmatch is configured for "
                f"{self.options.model!r}. Set CAPMATCH_EMBEDDING_MODEL={newest.model} (switching models means "
                "re-ingesting the catalog into a new CAPMATCH_HOME)."
            )
        base = snapshot_files.read(
            self.options.folder, newest.file, newest.dimension, newest.count, self.options.nprobe
        )
        if base is None:
            self._unreadable = newest.seq
            return False
        self._use(DeltaIndex(base), newest.seq)
        return True

    def _build_from_catalog(self, seq: int) -> VectorIndex:
        """Every stored vector, read after ``seq`` was the newest change (callers catch up from seq)."""
        dimension = self.dimension()
        ids, vectors = self._all_vectors(dimension)
        kind = vector_index.choose_kind(len(ids), self.options.kind, self.options.ivf_threshold)
        log.info("building a %s index from %d stored vectors (change %d)", kind, len(ids), seq)
        return vector_index.build(kind, ids, vectors, dimension, self.options.nprobe)

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

    def _write_snapshot(self, index: VectorIndex, seq: int) -> Snapshot:
        name = snapshot_files.write(index, self.options.folder, seq)
        failpoint("snapshot-written")  # the file is complete, the manifest does not name it yet
        recorded = Snapshot(
            seq=seq,
            file=name,
            kind=index.kind,
            count=index.count(),
            model=self.options.model,
            dimension=index.dimension,
            created=datetime.now(UTC).isoformat(),
        )
        self.catalog.vector_log.record(recorded)
        log.info("index snapshot %s: %d vectors (%s)", name, recorded.count, recorded.kind)
        return recorded

    def _prune(self) -> None:
        dropped = self.catalog.vector_log.prune()
        snapshot_files.remove_files(self.options.folder, [s.file for s in dropped])
        kept = self.catalog.vector_log.snapshots()
        if dropped and kept:
            # Also files below the oldest kept snapshot that no row ever named (a writer killed
            # between its file and its row): no reader can want them.
            snapshot_files.remove_leftovers(self.options.folder, older_than=kept[-1].seq)

    def _outgrown(self, index: DeltaIndex) -> bool:
        """Time to switch flat -> IVF, or to retrain IVF lists sized for a much smaller catalog."""
        if index.count() == 0:
            return False
        wanted = vector_index.choose_kind(index.count(), self.options.kind, self.options.ivf_threshold)
        if wanted != index.kind:
            return wanted == "ivf" or self.options.kind != "auto"
        if index.kind == "ivf":
            return vector_index.ivf_lists(index.count()) > 2 * index.lists()
        return False


def apply(index: DeltaIndex, changes: list[Change], overlap: bool = False) -> None:
    """Apply capability changes in seq order, consecutive ones of one kind as one batch."""
    start = 0
    while start < len(changes):
        op = changes[start].op
        end = start
        while end < len(changes) and changes[end].op == op:
            end += 1
        run = changes[start:end]
        ids = np.array([int(c.item) for c in run if c.item], dtype=np.int64)
        if op == ADD and len(ids):
            vectors = np.vstack([np.frombuffer(c.vector or b"", dtype=np.float32) for c in run])
            index.add(ids, vectors, overlap=overlap)
        elif op == DELETE and len(ids):
            index.remove(ids)
        start = end


class _Guarded:
    """A reader's view: every call takes the live index's lock and sees a fresh enough index."""

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
