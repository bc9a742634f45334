"""Rendered responses kept for a short time, per catalog generation.

A comparison is deterministic for a given catalog, except its times-matched counters; caching the
rendered body for a few seconds lets one process answer hundreds of requests a second while a
counter shown is at most ``ttl`` seconds old.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class ResponseCache:
    def __init__(self, ttl: float = 10.0, size: int = 2048) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, tuple[str, float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, generation: str, render: Callable[[], bytes]) -> bytes:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == generation and now - hit[1] < self.ttl:
                self._items.move_to_end(key)
                return hit[2]
        body = render()
        with self._lock:
            self._items[key] = (generation, now, body)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return body
