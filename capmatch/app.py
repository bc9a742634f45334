"""The app factory: the API routers and the pages mounted in one FastAPI app, the in-process worker
started (unless jobs run in `capmatch worker` processes), the index verified at start-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
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
        app.state.limiter = SubmissionLimiter(settings.submit_rate_per_minute, shared=core.rates)
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

    # FastAPI's own /docs and /redoc load their scripts from a CDN: blank pages offline.
    app = FastAPI(title="capmatch", version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None)
    errors.install(app, wants_html, html_error)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestGuard, settings=settings)  # hosts, body size, cross-site writes, db busy
    for router in (tools.router, jobs.router, search.router, compare.router, graph.router, system.router):
        app.include_router(router)

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _offline_docs(app)

    return app


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets the fastapi-offline package ships: nothing is loaded from
    another host, so the docs work without internet."""
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


def app_factory() -> FastAPI:
    """For `uvicorn --factory capmatch.app:app_factory`."""
    return create_app()
