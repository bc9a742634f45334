"""The vector change log and the snapshot manifest, on either backend (the SQL is the same).

``vector_changes`` holds every add and delete of a vector in commit order; ``index_snapshots``
names the FAISS files that hold every change up to a seq. A reader loads the newest snapshot and
applies the changes after it (capmatch.embeddings.live); the indexer folds changes into a new
snapshot and prunes what no reader needs any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

CAPABILITY = "capability"
IDENTITY = "identity"
ADD, DELETE, RESET = "add", "delete", "reset"
PRUNED_KEY = "vector_changes_pruned"  # meta: changes up to this seq are deleted
SNAPSHOT_COLUMNS = "seq, file, kind, count, model, dimension, created"
KEEP_SNAPSHOTS = 2  # the newest, and the one a reader may still be loading


@dataclass(frozen=True)
class Change:
    seq: int
    item: str
    op: str
    vector: bytes | None


@dataclass(frozen=True)
class Snapshot:
    seq: int
    file: str
    kind: str
    count: int
    model: str
    dimension: int
    created: str


class VectorLog:
    """Reads and appends through ``conn()``: this thread's SQLite connection or the PostgreSQL pool,
    inside the caller's transaction when there is one."""

    def __init__(self, conn: Callable[[], Any]) -> None:
        self._conn = conn

    # ---- writes (inside the catalog's write transaction) ---------------------------------------
    def append(self, kind: str, items: Iterable[object], op: str, vectors: np.ndarray | None = None) -> None:
        keys = [str(i) for i in items]
        if not keys:
            return
        if vectors is None:
            rows = [(kind, key, op, None) for key in keys]
        else:
            matrix = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
            rows = [(kind, key, op, matrix[n].tobytes()) for n, key in enumerate(keys)]
        self._conn().executemany("INSERT INTO vector_changes (kind, item, op, vector) VALUES (?, ?, ?, ?)", rows)

    def reset(self) -> int:
        """Mark that everything before is replaced (a reindex or an import); returns the marker's seq."""
        row = (
            self._conn()
            .execute("INSERT INTO vector_changes (kind, item, op) VALUES (?, '', ?) RETURNING seq", (CAPABILITY, RESET))
            .fetchone()
        )
        return int(row[0])

    # ---- reads ------------------------------------------------------------------------------------
    def heads(self) -> tuple[int, int]:
        """(the newest change's seq, the newest snapshot's seq), in one query: what a reader polls."""
        row = (
            self._conn()
            .execute("SELECT (SELECT MAX(seq) FROM vector_changes), (SELECT MAX(seq) FROM index_snapshots)")
            .fetchone()
        )
        snapshot = int(row[1] or 0)
        # All changes may be pruned up to the newest snapshot: then that is the newest seq.
        return max(int(row[0] or 0), snapshot), snapshot

    def changes_after(self, seq: int, through: int, kind: str = CAPABILITY) -> list[Change]:
        """Changes of ``kind`` with ``seq`` < their seq <= ``through``, in order."""
        rows = self._conn().execute(
            "SELECT seq, item, op, vector FROM vector_changes WHERE seq > ? AND seq <= ? AND kind = ? ORDER BY seq",
            (seq, through, kind),
        )
        return [Change(int(r[0]), str(r[1]), str(r[2]), None if r[3] is None else bytes(r[3])) for r in rows]

    def reset_between(self, seq: int, through: int) -> bool:
        """Whether a reset marker (import, reindex) lies after ``seq``, up to ``through``."""
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM vector_changes WHERE seq > ? AND seq <= ? AND op = ? LIMIT 1", (seq, through, RESET)
            )
            .fetchone()
        )
        return row is not None

    def newest_snapshot(self) -> Snapshot | None:
        row = (
            self._conn().execute(f"SELECT {SNAPSHOT_COLUMNS} FROM index_snapshots ORDER BY seq DESC LIMIT 1").fetchone()
        )
        return None if row is None else _snapshot(row)

    def snapshots(self) -> list[Snapshot]:
        rows = self._conn().execute(f"SELECT {SNAPSHOT_COLUMNS} FROM index_snapshots ORDER BY seq DESC")
        return [_snapshot(r) for r in rows]

    def pruned_through(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (PRUNED_KEY,)).fetchone()
        return int(row[0]) if row else 0

    # ---- the manifest -------------------------------------------------------------------------------
    def record(self, snapshot: Snapshot) -> None:
        """The commit point of a snapshot: call only once its file is complete under its final name.
        The same seq written twice (two writers, or a file rewritten after it went missing) names the
        same file, so the later row simply replaces the earlier."""
        self._conn().execute(
            """INSERT INTO index_snapshots (seq, file, kind, count, model, dimension, created)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (seq) DO UPDATE SET file = excluded.file, kind = excluded.kind,
                   count = excluded.count, model = excluded.model, dimension = excluded.dimension,
                   created = excluded.created""",
            (
                snapshot.seq,
                snapshot.file,
                snapshot.kind,
                snapshot.count,
                snapshot.model,
                snapshot.dimension,
                snapshot.created,
            ),
        )

    def prune(self, keep: int = KEEP_SNAPSHOTS) -> list[Snapshot]:
        """Forget all but the ``keep`` newest snapshots, and the changes folded into the oldest one
        kept; returns the snapshots forgotten (their files may go). A reader still at an older seq
        loads a kept snapshot, or rebuilds from the catalog when it cannot (see pruned_through)."""
        kept = self.snapshots()[:keep]
        if len(kept) < keep:
            return []
        floor = kept[-1].seq
        conn = self._conn()
        # The marker first: a reader that sees changes missing also sees that they were pruned.
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (PRUNED_KEY, str(floor)),
        )
        rows = conn.execute(f"SELECT {SNAPSHOT_COLUMNS} FROM index_snapshots WHERE seq < ?", (floor,))
        dropped = [_snapshot(r) for r in rows]
        conn.execute("DELETE FROM index_snapshots WHERE seq < ?", (floor,))
        conn.execute("DELETE FROM vector_changes WHERE seq <= ?", (floor,))
        return dropped


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(int(row[0]), str(row[1]), str(row[2]), int(row[3]), str(row[4]), int(row[5]), str(row[6]))
