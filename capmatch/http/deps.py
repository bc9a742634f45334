"""Dependencies as named aliases, so route signatures read as sentences. They are async: a sync
dependency costs every request a hop to the thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from capmatch.pipeline.worker import JobWorker
from capmatch.runtime import Runtime

T = TypeVar("T")


async def get_core(request: Request) -> Runtime:
    core: Runtime = request.app.state.core
    return core


async def get_worker(request: Request) -> JobWorker | None:
    """The in-process worker, or None when jobs run in `capmatch worker` processes (--no-worker)."""
    worker: JobWorker | None = request.app.state.worker
    return worker


async def run_query(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a CPU-bound read query on the app's query threads (CAPMATCH_QUERY_CONCURRENCY of them):
    the event loop keeps parsing and answering requests while one thread computes, instead of
    dozens of pool threads convoying on the GIL (docs/benchmarks.md, API load)."""
    pool: ThreadPoolExecutor = request.app.state.queries
    core: Runtime = request.app.state.core

    def gated() -> T:
        # The same gate the HTML pages take: API and page queries share one limit.
        with core.querying():
            return fn(*args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(pool, gated)


CoreDep = Annotated[Runtime, Depends(get_core)]
WorkerDep = Annotated[JobWorker | None, Depends(get_worker)]
