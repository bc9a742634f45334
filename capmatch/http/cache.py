"""Rendered responses kept per catalog generation.

A comparison is deterministic for a given catalog, except its times-matched counters. So within one
generation a body is served from memory; after ``ttl`` seconds it is still served while one
background thread renders a fresh one (stale-while-revalidate), so no request waits for a render
just because a counter may have moved. When the generation changes (a tool added or removed) the
old body is never served: the first request renders it and concurrent requests for the same key
wait for that render instead of repeating it (single flight).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger("capmatch.api")


@dataclass
class _Entry:
    generation: str
    rendered_at: float
    body: bytes
    refreshing: bool = False


class ResponseCache:
    def __init__(self, ttl: float = 10.0, size: int = 2048) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Striped locks: single flight per key without a lock object per key ever requested.
        self._stripes = [threading.Lock() for _ in range(64)]

    def peek(self, key: Hashable, generation: str, render: Callable[[], bytes]) -> bytes | None:
        """The body for this generation if there is one (starting a refresh when it is old), else
        None. Never renders, so an async route can call it on the event loop."""
        with self._lock:
            entry = self._items.get(key)
            if entry is None or entry.generation != generation:
                return None
            self._items.move_to_end(key)
            if time.monotonic() - entry.rendered_at >= self.ttl and not entry.refreshing:
                entry.refreshing = True
                threading.Thread(target=self._refresh, args=(key, generation, render), daemon=True).start()
            return entry.body

    def get_or_render(self, key: Hashable, generation: str, render: Callable[[], bytes]) -> bytes:
        body = self.peek(key, generation, render)
        if body is not None:
            return body
        with self._stripes[hash(key) % len(self._stripes)]:
            with self._lock:
                entry = self._items.get(key)
                if entry is not None and entry.generation == generation:
                    return entry.body  # rendered by the request we waited for
            body = render()
            self._store(key, generation, body)
            return body

    def _refresh(self, key: Hashable, generation: str, render: Callable[[], bytes]) -> None:
        try:
            body = render()
        except Exception:  # the next request renders in the foreground and reports the error
            log.exception("refreshing a cached response failed")
            with self._lock:
                self._items.pop(key, None)
            return
        self._store(key, generation, body, replace_only=True)

    def _store(self, key: Hashable, generation: str, body: bytes, replace_only: bool = False) -> None:
        with self._lock:
            current = self._items.get(key)
            if replace_only and (current is None or current.generation != generation):
                return  # the catalog changed while refreshing: this body is already out of date
            self._items[key] = _Entry(generation, time.monotonic(), body)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
