"""Every tool's identity vector, kept current from the vector change log instead of re-read whole.

Similar-tools scoring needs all identity vectors at once. Reading them whole after every write costs
a full table read per process (150 MB at 100k tools); instead the first read loads them, and later
reads apply the ``identity`` rows of ``vector_changes`` after it, as the capability index does.
A reset marker (import, reindex) or pruned changes mean a full read again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from capmatch.storage.vector_log import ADD, DELETE, IDENTITY, Change, VectorLog


class IdentityMirror:
    def __init__(
        self,
        log: VectorLog,
        load_all: Callable[[], tuple[list[str], np.ndarray]],
        in_transaction: Callable[[], bool],
    ) -> None:
        self._log = log
        self._load_all = load_all
        self._in_transaction = in_transaction
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] | None = None
        self._cursor = 0
        self._result: tuple[list[str], np.ndarray] | None = None

    def current(self) -> tuple[list[str], np.ndarray]:
        """(tool ids in sorted order, their identity vectors as rows)."""
        with self._lock:
            head = self._log.heads()[0]
            if self._vectors is None or self._cursor < self._log.pruned_through() or self._reset_after(head):
                if self._in_transaction():
                    return self._load_all()  # nothing kept: the transaction may still roll back
                self._reload(head)
            elif head > self._cursor:
                changes = self._log.changes_after(self._cursor, head, IDENTITY)
                if self._in_transaction():
                    # A write's own rows count for its own queries, but are kept only once committed:
                    # a rolled-back seq may be handed out again (SQLite), and must not be skipped then.
                    return _sorted(_applied(dict(self._vectors), changes))
                _applied(self._vectors, changes)
                self._cursor = head
                if changes:
                    self._result = None
            if self._result is None:
                assert self._vectors is not None
                self._result = _sorted(self._vectors)
            return self._result

    def _reset_after(self, head: int) -> bool:
        return head > self._cursor and self._log.reset_between(self._cursor, head)

    def _reload(self, head: int) -> None:
        # The seq is read before the rows: a change committed in between is applied again, harmlessly
        # (an add sets the same vector, a delete of a missing id does nothing).
        ids, matrix = self._load_all()
        self._vectors = {tool_id: matrix[n] for n, tool_id in enumerate(ids)}
        self._cursor = head
        self._result = None


def _applied(vectors: dict[str, np.ndarray], changes: list[Change]) -> dict[str, np.ndarray]:
    for change in changes:
        if change.op == ADD and change.vector is not None:
            vectors[change.item] = np.frombuffer(change.vector, dtype=np.float32)
        elif change.op == DELETE:
            vectors.pop(change.item, None)
    return vectors


def _sorted(vectors: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    ids = sorted(vectors)
    return ids, (np.vstack([vectors[i] for i in ids]) if ids else np.empty((0, 0), dtype=np.float32))
