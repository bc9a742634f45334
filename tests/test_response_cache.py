"""The compare-response cache: one render per key and generation however many requests arrive at
once, old bodies refreshed in the background, a new catalog generation never served stale."""

from __future__ import annotations

import threading
import time

from capmatch.http.cache import ResponseCache


def counting_render(delay: float = 0.0) -> tuple[list[int], object]:
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        time.sleep(delay)
        return f"body {len(calls)}".encode()

    return calls, render


def test_concurrent_misses_render_once() -> None:
    cache = ResponseCache(ttl=60)
    calls, render = counting_render(delay=0.2)
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_render("k", "g1", render)))  # type: ignore[arg-type]
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [b"body 1"] * 8


def test_an_old_body_is_served_while_one_refresh_runs() -> None:
    cache = ResponseCache(ttl=0.05)
    calls, render = counting_render(delay=0.2)
    assert cache.get_or_render("k", "g1", render) == b"body 1"  # type: ignore[arg-type]
    time.sleep(0.1)
    started = time.monotonic()
    served = [cache.peek("k", "g1", render) for _ in range(20)]  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.1, "nobody waited for the refresh"
    assert served == [b"body 1"] * 20
    deadline = time.monotonic() + 5
    while cache.peek("k", "g1", render) != b"body 2" and time.monotonic() < deadline:  # type: ignore[arg-type]
        time.sleep(0.02)
    assert cache.peek("k", "g1", render) == b"body 2" and len(calls) == 2  # type: ignore[arg-type]


def test_a_new_generation_is_never_served_stale() -> None:
    cache = ResponseCache(ttl=60)
    calls, render = counting_render()
    cache.get_or_render("k", "g1", render)  # type: ignore[arg-type]
    assert cache.peek("k", "g2", render) is None  # type: ignore[arg-type]
    assert cache.get_or_render("k", "g2", render) == b"body 2"  # type: ignore[arg-type]
    assert len(calls) == 2


def test_a_failed_render_caches_nothing() -> None:
    cache = ResponseCache(ttl=60)

    def broken() -> bytes:
        raise LookupError("no such tool")

    for _ in range(2):
        try:
            cache.get_or_render("k", "g1", broken)
        except LookupError:
            pass
        else:
            raise AssertionError("the error must reach the caller")
    assert cache.peek("k", "g1", broken) is None
