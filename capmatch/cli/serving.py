"""Running the service: the HTTP server, the job worker and the index snapshot builder."""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated

import typer

from capmatch.cli.common import app, err, handle_errors
from capmatch.runtime import Runtime
from capmatch.settings import get_settings
from capmatch.storage.backends import check_schema, describe


@app.command()
@handle_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: CAPMATCH_HOST or 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: CAPMATCH_PORT or 8000].")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Leave ingestion jobs to `capmatch worker` processes.")
    ] = False,
) -> None:
    """Serve the API (and its docs at /docs) and the pages, with an ingestion worker in the same
    process unless --no-worker.

    Example: capmatch serve --port 8000
    """
    import uvicorn

    from capmatch.app import create_app
    from capmatch.http.access import exposure_warning

    settings = get_settings()
    check_schema(settings)  # one clear line, not a failed start-up with a traceback
    host = host or settings.host
    port = port or settings.port
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    err.print(f"capmatch: catalog in {describe(settings)}; API docs at http://{host}:{port}/docs")
    warning = exposure_warning(host, settings.api_key)
    if warning:
        err.print(warning, style="bold yellow", markup=False, soft_wrap=True)
    # The app knows where it listens: the allowed Host names default to loopback only when bound there.
    settings = settings.model_copy(update={"host": host, "port": port})
    uvicorn.run(create_app(settings, start_worker=not no_worker), host=host, port=port, log_level="info")


@app.command()
@handle_errors
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once [default: CAPMATCH_WORKER_CONCURRENCY or 2].")
    ] = None,
) -> None:
    """Run ingestion jobs from the catalog's queue in this process, until interrupted. Start as many
    as you like beside `capmatch serve --no-worker`; each claims jobs under a lease.

    Example: capmatch worker --concurrency 2
    """
    from capmatch.pipeline.worker import JobWorker

    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    core = Runtime(settings)
    job_worker = JobWorker(core.jobs, core.ingestor, core.catalog, settings, on_start=lambda: _verify(core))
    err.print(
        f"capmatch worker {job_worker.id}: catalog in {describe(settings)}, {settings.worker_concurrency} "
        f"jobs at once, lease {settings.worker_lease_seconds:g}s",
        markup=False,
    )
    try:
        job_worker.run_forever()
    except KeyboardInterrupt:
        err.print("worker stopped")


@app.command()
@handle_errors
def indexer(
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between looks at the change log.")] = 1.0,
    max_age: Annotated[
        float, typer.Option(min=0, help="Fold even a small delta once its first change is this old (seconds).")
    ] = 60.0,
) -> None:
    """Fold the vector change log into immutable FAISS snapshots in CAPMATCH_INDEX_DIR, recorded in
    the catalog's manifest, until interrupted. Start two (or more): one leads, the others wait and
    take over when it stops. Every process that writes then leaves snapshots to it when started
    with CAPMATCH_INDEX_SNAPSHOTS=indexer.

    Example: CAPMATCH_INDEX_DIR=/srv/capmatch/index capmatch indexer
    """
    import signal
    import threading

    from capmatch.pipeline.indexer import Indexer

    settings = get_settings()
    check_schema(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    core = Runtime(settings)
    stop = threading.Event()
    # SIGTERM as Ctrl-C: it also ends a standby blocked waiting for the leader's lock, which a flag
    # checked between rounds would not.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    err.print(
        f"capmatch indexer: catalog in {describe(settings)}, snapshots in {settings.index_dir}; waiting to lead",
        markup=False,
    )
    job = Indexer(core.catalog, core.live_index, poll, max_age, on_lead=lambda: err.print("indexer: leading"))
    with contextlib.suppress(KeyboardInterrupt):
        job.run(stop)
    err.print("indexer stopped")


def _verify(core: Runtime) -> None:
    status = core.verify_index()
    if status.rebuilt:
        err.print(f"vector index rebuilt from the database ({status.count} vectors)", markup=False)


db_app = typer.Typer(help="The catalog database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("migrate")
@handle_errors
def db_migrate() -> None:
    """Apply pending database migrations. On SQLite every command also applies them when it opens the
    catalog; on PostgreSQL (CAPMATCH_DATABASE_URL) only this command does, once per upgrade, and
    processes refuse to start on an older schema.

    Example: CAPMATCH_DATABASE_URL=postgresql://capmatch@db/capmatch capmatch db migrate
    """
    from capmatch.storage.backends import backend_name, describe

    settings = get_settings()
    if backend_name(settings) == "sqlite":
        from capmatch.storage.sqlite import connect, migrate

        applied = migrate(connect(settings.db_path))
    else:
        from capmatch.storage.postgres import PgDatabase
        from capmatch.storage.postgres import migrate as pg_migrate

        assert settings.database_url is not None
        db = PgDatabase(settings.database_url, pool_size=1)
        try:
            applied = pg_migrate(db)
        finally:
            db.close()
    err.print(
        f"{describe(settings)}: {len(applied)} migrations applied" + (f": {', '.join(applied)}" if applied else ""),
        markup=False,
    )
