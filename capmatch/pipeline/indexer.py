"""The indexer role: one leader folds the vector change log into immutable FAISS snapshots.

Every process keeps its own delta (capmatch.embeddings.live); the indexer keeps that delta small for
all of them. It waits to lead (``catalog.leader``: an advisory lock on PostgreSQL), then every
``poll_seconds`` folds the changes into ``snapshot-<seq>.faiss`` in ``CAPMATCH_INDEX_DIR`` once
``CAPMATCH_INDEX_SNAPSHOT_CHANGES`` have gathered or ``max_age`` seconds have passed since the first
unfolded change, and records it in the manifest. A standby waits in the lock and takes over when
the leader's process or connection dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from capmatch.embeddings.live import LiveIndex
from capmatch.storage.base import Catalog
from capmatch.storage.vector_log import Snapshot

log = logging.getLogger(__name__)
ROLE = "indexer"


class Indexer:
    def __init__(
        self,
        catalog: Catalog,
        index: LiveIndex,
        poll_seconds: float = 1.0,
        max_age: float = 60.0,
        on_lead: Callable[[], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.poll_seconds = poll_seconds
        self.max_age = max_age  # a small delta is folded too, so that no reader replays it for ever
        self._on_lead = on_lead
        self._pending_since: float | None = None

    def run(self, stop: threading.Event) -> None:
        with self.catalog.leader(ROLE):
            log.info("indexer: leading")
            if self._on_lead is not None:
                self._on_lead()
            while not stop.is_set():
                try:
                    self.step()
                except Exception:
                    # A database restart or a full disk must not end the leader: the lock (and the
                    # standbys' wait) would pass on for nothing. Logged, and tried again next round.
                    log.exception("indexer: snapshot failed; retrying")
                stop.wait(self.poll_seconds)

    def step(self) -> Snapshot | None:
        """One round: fold the delta if it is big or old enough; returns the snapshot recorded."""
        _, applied, _ = self.index.status()
        newest = self.catalog.vector_log.newest_snapshot()
        if newest is not None and applied <= newest.seq:
            self._pending_since = None
            return self.index.snapshot()  # folds only when the catalog outgrew the index kind
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        recorded = self.index.snapshot(force=newest is None or now - self._pending_since >= self.max_age)
        if recorded is not None:
            self._pending_since = None
        return recorded
