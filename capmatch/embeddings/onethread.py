"""Run one query's vector arithmetic on one thread.

A search multiplies one query vector with a few thousand rows. With two BLAS or OpenMP threads on the
2-core machine, while other processes kept both cores busy (load 4.7), that was 10-20x slower than on
one: 16 ms against 0.7 ms for 3,000 rows x 384 (OpenBLAS), 36 ms against 12 ms for an 8-bit FAISS
scan of 100,000 rows. The threads of one small product only wait for each other. The results are
the same bit for bit (OpenBLAS splits rows between threads, never one row's sum).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_CONTROLLER: list[Any] = []  # threadpoolctl.ThreadpoolController, made once: finding the libraries takes ms


def _controller() -> Any:
    with _LOCK:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        return _CONTROLLER[0]


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS (process-wide, for the duration) and this thread's OpenMP (FAISS) on one thread."""
    import faiss

    before = faiss.omp_get_max_threads()  # an OpenMP setting of the calling thread only
    faiss.omp_set_num_threads(1)
    try:
        with _controller().limit(limits=1, user_api="blas"):  # costs about 11 us
            yield
    finally:
        faiss.omp_set_num_threads(before)
