"""The app factory: the API routers and the pages mounted in one FastAPI app, the in-process worker
started (unless jobs run in `capmatch worker` processes), the index verified at start-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from capmatch import __version__
from capmatch.api.routes import compare, graph, jobs, search, system, tools
from capmatch.http import errors
from capmatch.http.access import SubmissionLimiter
from capmatch.http.cache import ResponseCache
from capmatch.http.guard import RequestGuard
from capmatch.http.headers import SecurityHeaders
from capmatch.pipeline.worker import JobWorker
from capmatch.runtime import Runtime
from capmatch.settings import Settings, get_settings
from capmatch.web import pages
from capmatch.web.errors import html_error, wants_html
from capmatch.web.templating import HERE

log = logging.getLogger("capmatch")
STATIC = HERE / "static"

DESCRIPTION = """
Submit a tool's URL; capmatch fetches the page, decomposes it into capabilities backed by quotes
from the page, and indexes them. Then ask for similar tools, search by need, or compare two tools.

Start with `POST /api/tools {"url": ...}` and poll `GET /api/jobs/{job_id}` until `status` is `done`.
"""


def _verify_index(core: Runtime) -> None:
    # Off the request path: loads the model and checks the saved index against the database.
    try:
        status = core.verify_index()
        if status.rebuilt:
            log.warning("vector index rebuilt from the database (%d vectors)", status.count)
    except Exception:
        log.exception("could not verify the vector index")


def create_app(settings: Settings | None = None, start_worker: bool = True) -> FastAPI:
    """The API and the pages in one app. ``start_worker``: run ingestion jobs in this process too
    (`capmatch serve`); without it they wait for `capmatch worker` processes (`--no-worker`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core = Runtime(settings)
        # Jobs of a worker that died are requeued by any worker once their lease expires; nothing
        # here touches another process's running jobs.
        worker = JobWorker(core.jobs, core.ingestor, core.catalog, settings, on_start=lambda: _verify_index(core))
        app.state.core = core
        app.state.worker = worker if start_worker else None
        app.state.responses = ResponseCache(ttl=10.0)
        app.state.limiter = SubmissionLimiter(settings.submit_rate_per_minute)
        app.state.queries = ThreadPoolExecutor(settings.query_concurrency, thread_name_prefix="capmatch-query")
        if start_worker:
            worker.start()
        else:
            threading.Thread(target=_verify_index, args=(core,), name="capmatch-verify", daemon=True).start()
        try:
            yield
        finally:
            if start_worker:
                worker.stop()
            app.state.queries.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="capmatch", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    errors.install(app, wants_html, html_error)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestGuard, settings=settings)  # hosts, body size, cross-site writes, db busy
    for router in (tools.router, jobs.router, search.router, compare.router, graph.router, system.router):
        app.include_router(router)

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory capmatch.app:app_factory`."""
    return create_app()
