"""A snapshot index plus a small exact side index of the changes made after it.

``DeltaIndex`` is what a reader searches: the base (flat or IVF, loaded from a snapshot or built
from the catalog) with deleted ids removed from its in-memory copy, and the vectors added since in
an exact IndexFlatIP side index; a search asks both and merges by score. ``Pending`` is a writer's
view during one catalog transaction: the changes of that transaction on top of a ``DeltaIndex``,
thrown away afterwards (the committed change rows are read back like any other process's).

Capability ids are never reused (AUTOINCREMENT / identity columns), so an added id is never already
in the base except while catching up on changes the base may already hold (``overlap``).
"""

from __future__ import annotations

import faiss
import numpy as np

from capmatch.embeddings.index import FlatIndex, VectorIndex

_NO_SCORE = np.float32(np.finfo(np.float32).min)  # as FAISS pads a short inner-product result


class DeltaIndex:
    def __init__(self, base: VectorIndex) -> None:
        self.base = base
        self.side = FlatIndex.empty(base.dimension)

    @property
    def kind(self) -> str:
        return self.base.kind

    @property
    def dimension(self) -> int:
        return self.base.dimension

    def add(self, ids: np.ndarray, vectors: np.ndarray, overlap: bool = False) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if overlap:
            self.base.remove(ids)
        self.side.remove(ids)
        self.side.add(ids, vectors)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return self.base.remove(ids) + self.side.remove(ids)

    def count(self) -> int:
        return self.base.count() + self.side.count()

    def delta_count(self) -> int:
        return self.side.count()

    def lists(self) -> int:
        return self.base.lists()

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        base = self.base.search(vectors, k)
        if self.side.count() == 0:
            return base
        return merge(base, self.side.search(vectors, k), min(k, self.count()))

    def folded(self) -> VectorIndex:
        """A new index holding base and side together (the next snapshot); self is unchanged."""
        copy = faiss.clone_index(self.base.faiss_index())
        folded: VectorIndex = type(self.base)(copy, self.dimension)  # type: ignore[call-arg]
        ids, vectors = side_contents(self.side)
        folded.add(ids, vectors)
        return folded


class Pending:
    """One write transaction's changes over a committed ``DeltaIndex`` (see the module docstring)."""

    def __init__(self, committed: DeltaIndex) -> None:
        self._committed = committed
        self._added = FlatIndex.empty(committed.dimension)
        self._hidden: set[int] = set()
        self.kind = committed.kind
        self.dimension = committed.dimension

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._added.add(ids, vectors)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        removed = self._added.remove(ids)
        self._hidden |= {int(i) for i in ids}
        return removed + len(ids)

    def count(self) -> int:
        return self._committed.count() - len(self._hidden) + self._added.count()

    def lists(self) -> int:
        return self._committed.lists()

    def faiss_index(self) -> faiss.Index:
        raise NotImplementedError("a pending write has no single FAISS index")

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # Asked for more by the number hidden, so that k remain after the removed ones are dropped.
        scores, ids = self._committed.search(vectors, k + len(self._hidden))
        if self._hidden:
            gone = np.isin(ids, np.fromiter(self._hidden, dtype=np.int64))
            ids = np.where(gone, -1, ids)
            scores = np.where(gone, _NO_SCORE, scores)
        return merge((scores, ids), self._added.search(vectors, k), max(0, min(k, self.count())))


def merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of two (scores, ids) results per query row; -1 ids (padding) sort last."""
    scores = np.hstack([a[0], b[0]]).astype(np.float32, copy=False)
    ids = np.hstack([a[1], b[1]]).astype(np.int64, copy=False)
    scores = np.where(ids < 0, _NO_SCORE, scores)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


def side_contents(side: FlatIndex) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) held by an IndexIDMap2 over IndexFlatIP, in storage order."""
    raw = side.faiss_index()
    assert isinstance(raw, faiss.IndexIDMap2)  # FlatIndex.empty builds exactly this
    n = int(raw.ntotal)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty((0, side.dimension), dtype=np.float32)
    ids = faiss.vector_to_array(raw.id_map).astype(np.int64)
    inner = faiss.downcast_index(raw.index)
    return ids, inner.reconstruct_n(0, n)
