"""The storage backend table: which catalog and job queue a database setting selects.

Unset ``CAPMATCH_DATABASE_URL`` means one SQLite file under ``CAPMATCH_HOME``; ``postgresql://…``
means a PostgreSQL database shared by every process and machine that names it.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from capmatch.errors import InvalidInput
from capmatch.settings import Settings
from capmatch.storage.base import Catalog, JobQueue, RateLimits


@dataclass(frozen=True)
class Storage:
    catalog: Catalog
    jobs: JobQueue
    rates: RateLimits | None = None  # shared limits; None: each process counts its own (one machine)


def _sqlite(settings: Settings) -> Storage:
    from capmatch.storage.catalog import SqliteCatalog
    from capmatch.storage.jobs import SqliteJobQueue

    catalog = SqliteCatalog(settings.db_path)
    return Storage(catalog, SqliteJobQueue(catalog))


def _postgres(settings: Settings) -> Storage:
    # Imported only here: psycopg is needed only by those who name a PostgreSQL database.
    from capmatch.storage.pg_catalog import PgCatalog
    from capmatch.storage.pg_jobs import PgJobQueue
    from capmatch.storage.pg_rates import PgRateLimits

    assert settings.database_url is not None
    catalog = PgCatalog(settings.database_url, settings.database_pool_size, settings.database_migrate)
    return Storage(catalog, PgJobQueue(catalog), PgRateLimits(catalog.db))


BACKENDS: dict[str, Callable[[Settings], Storage]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
}


def backend_name(settings: Settings) -> str:
    if not settings.database_url:
        return "sqlite"
    scheme = urlsplit(settings.database_url).scheme.split("+", 1)[0].lower()
    if scheme not in BACKENDS or scheme == "sqlite":
        raise InvalidInput(
            f"CAPMATCH_DATABASE_URL must start with postgresql:// (got {scheme or 'no scheme'}://); "
            "unset it to keep the catalog in SQLite under CAPMATCH_HOME"
        )
    return scheme


def check_schema(settings: Settings) -> None:
    """Raise SchemaBehind (PostgreSQL) before a server starts, instead of failing in its start-up."""
    if backend_name(settings) == "sqlite":
        return  # SQLite migrates as it opens: one machine, one version
    from capmatch.storage.postgres import PgDatabase, migrate, require_current

    assert settings.database_url is not None
    db = PgDatabase(settings.database_url, pool_size=1)
    try:
        if settings.database_migrate:
            migrate(db)
        require_current(db)
    finally:
        db.close()


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is busy (a lock held elsewhere past the timeout), on either
    backend: the API answers 503 with Retry-After for these."""
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    if "psycopg" in sys.modules:  # only a process that opened PostgreSQL can raise its errors
        from capmatch.storage.postgres import busy

        return busy(exc)
    return False


def index_poll_seconds(settings: Settings) -> float:
    """How stale a process's vector index may be: a local SQLite file is asked on every query (as
    cheap as the generation check it replaced); a PostgreSQL server about once a second."""
    if settings.index_poll_seconds is not None:
        return settings.index_poll_seconds
    return 0.0 if backend_name(settings) == "sqlite" else 1.0


def open_storage(settings: Settings) -> Storage:
    return BACKENDS[backend_name(settings)](settings)


def describe(settings: Settings) -> str:
    """Where the catalog lives, for start-up messages (the password left out)."""
    if not settings.database_url:
        return str(settings.db_path.resolve())
    parts = urlsplit(settings.database_url)
    host = parts.hostname or "local socket"
    return f"PostgreSQL {parts.path.lstrip('/') or '(default database)'} on {host}"
