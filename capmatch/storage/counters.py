"""Match counters kept in memory and written in batches.

Every similar/search read counts the tools it returned. Writing that at once would make each read a
write transaction, which contends with the catalog's writers (SQLite's one write lock, PostgreSQL's
row locks across replicas). Instead the counts collect here; one flusher thread per process writes
them every ``interval`` seconds in one transaction, and this process's own reads add the pending
counts to what the database says, so they never look behind. Counts not yet flushed when a process
is killed are lost, and a read racing a flush may see a count short by that batch for a moment:
they are statistics, not catalog content.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
TICK = 0.5


class MatchCounts:
    def __init__(self, write: Callable[[dict[str, int]], None]) -> None:
        self._write = write
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()
        # Held for a whole flush: a flush (e.g. before an export) waits for one already writing, so
        # once it returns every count so far is in the database.
        self._flushing = threading.Lock()

    def add(self, tool_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(tool_ids))
        if not ids:
            return
        with self._lock:
            self._pending.update(ids)
        _flusher.watch(self)

    def pending(self, tool_id: str) -> int:
        with self._lock:
            return self._pending.get(tool_id, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._pending)

    def discard(self, tool_id: str) -> None:
        """The tool was deleted, or stored again carrying its count: nothing pending for it."""
        with self._lock:
            self._pending.pop(tool_id, None)

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                batch, self._pending = dict(self._pending), Counter()
            if not batch:
                return
            try:
                self._write(batch)
            except BaseException:
                with self._lock:
                    self._pending.update(batch)  # kept for the next flush
                raise


class _Flusher:
    """One daemon thread per process flushing every live ``MatchCounts``; started on first use."""

    def __init__(self) -> None:
        self.interval = FLUSH_SECONDS
        self._counts: weakref.WeakSet[MatchCounts] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, counts: MatchCounts) -> None:
        with self._lock:
            self._counts.add(counts)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="capmatch-counters", daemon=True)
                self._thread.start()
                atexit.register(self.flush_all)

    def flush_all(self) -> None:
        with self._lock:
            every = list(self._counts)
        for counts in every:
            try:
                counts.flush()
            except Exception:
                log.warning("could not write match counters; kept for the next flush", exc_info=True)

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            time.sleep(TICK)  # a tick, not one long wait: a changed interval applies at once
            if time.monotonic() - last >= self.interval:
                self.flush_all()
                last = time.monotonic()


_flusher = _Flusher()


def flush_all() -> None:
    """Write every pending counter of this process now (tests, shutdown)."""
    _flusher.flush_all()
