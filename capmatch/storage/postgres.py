"""PostgreSQL connections: a pool, the catalog's write lock (an advisory lock) and numbered migrations.

``PgDatabase`` speaks the small part of ``sqlite3.Connection`` that the catalog's SQL uses
(``execute``/``executemany`` with ``?`` placeholders, rows readable by index and by column name,
``rowcount``), so one set of queries serves both backends. A statement outside a transaction
borrows a pooled connection just for itself (autocommit); inside ``transaction()`` every statement
of the thread runs on the one connection that holds the transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from capmatch.errors import SchemaBehind

try:
    import psycopg
    from psycopg import sql as pgsql
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - psycopg is a dependency; a broken install says how to fix it
    raise ImportError("PostgreSQL support needs psycopg: pip install 'psycopg[binary]' psycopg-pool") from exc

# pg_advisory_xact_lock keys: the catalog's one write lock, and the namespace of per-source submit locks.
CATALOG_WRITE_LOCK = 0x6361_706D  # "capm"
SUBMIT_LOCK_SPACE = 0x6A6F_6273  # "jobs"
MIGRATE_LOCK = 0x6D69_6772  # "migr"
RATE_LOCK_SPACE = 0x7261_7465  # "rate"
# As SQLite's busy timeout: a statement waiting this long for a lock (e.g. the catalog write lock held
# by a long import elsewhere) fails, and the API answers 503 instead of hanging.
LOCK_TIMEOUT_MS = 30_000


class Row(tuple[Any, ...]):
    """A result row readable like ``sqlite3.Row``: by position, by column name and as a mapping."""

    _names: tuple[str, ...] = ()

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names.index(key))
        return super().__getitem__(key)

    def keys(self) -> tuple[str, ...]:
        return self._names


class Result:
    """A statement's rows, fetched before its connection went back to the pool."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Row]:
        return self.rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


def translate(query: str) -> str:
    """sqlite3's ``?`` placeholders as psycopg's ``%s``; a literal ``%`` doubled. Quoted text and
    identifiers are left alone."""
    out: list[str] = []
    quote: str | None = None
    for char in query:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def _run(conn: psycopg.Connection[Any], query: str, params: Sequence[Any]) -> Result:
    cursor = conn.execute(translate(query), tuple(params))
    rows: list[Row] = []
    if cursor.description is not None:
        names = tuple(column.name for column in cursor.description)
        rows = [Row(values, names) for values in cursor.fetchall()]
    return Result(rows, cursor.rowcount)


class PgDatabase:
    """One PostgreSQL database behind a pool (see the module docstring)."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self._local = threading.local()
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
            open=True,
            name="capmatch",
        )

    def close(self) -> None:
        self.pool.close()

    @property
    def _held(self) -> psycopg.Connection[Any] | None:
        return getattr(self._local, "conn", None)

    @property
    def in_transaction(self) -> bool:
        return self._held is not None

    def execute(self, query: str, params: Sequence[Any] = ()) -> Result:
        held = self._held
        if held is not None:
            return _run(held, query, params)
        with self.pool.connection() as conn:
            return _run(conn, query, params)

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if not batch:
            return
        held = self._held
        if held is not None:
            held.cursor().executemany(translate(query), batch)
            return
        with self.pool.connection() as conn:
            conn.cursor().executemany(translate(query), batch)

    @contextmanager
    def transaction(self, lock: int | None = None, isolation: str | None = None) -> Iterator[None]:
        """One transaction on one connection for every statement this thread runs inside it. With
        ``lock``, take that transaction-scoped advisory lock first (released at commit or rollback)."""
        if self._held is not None:
            raise RuntimeError("transactions do not nest")
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    if isolation:
                        conn.execute(pgsql.SQL("SET TRANSACTION ISOLATION LEVEL {}").format(pgsql.SQL(isolation)))
                    if lock is not None:
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                    yield
            finally:
                self._local.conn = None

    def connect(self) -> psycopg.Connection[Any]:
        """A connection of its own, outside the pool (for LISTEN): the caller closes it."""
        return psycopg.connect(self.url, autocommit=True)


# ---- migrations ------------------------------------------------------------------------------------
def busy(exc: BaseException) -> bool:
    """A lock wait ran out or no pooled connection came free: try again later, not a bug."""
    from psycopg_pool import PoolTimeout

    return isinstance(exc, psycopg.errors.LockNotAvailable | PoolTimeout)


def migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("capmatch.storage") / "pg_migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _applied(db: PgDatabase) -> set[int]:
    exists = db.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return set()
    return {int(r[0]) for r in db.execute("SELECT version FROM schema_migrations")}


def pending(db: PgDatabase) -> list[str]:
    """Names of the migrations this capmatch has and the database has not applied."""
    done = _applied(db)
    return [name for number, name, _ in migration_files() if number not in done]


def migrate(db: PgDatabase) -> list[str]:
    """Apply pending migrations in order, each in its own transaction, under an advisory lock so that
    two `capmatch db migrate` at once apply each migration once. Returns the names applied."""
    applied = []
    for number, name, script in migration_files():
        with db.transaction(lock=MIGRATE_LOCK):
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            if db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (number,)).fetchone():
                continue
            held = db._held
            assert held is not None
            held.execute(script.encode())  # a whole script: no parameters, several statements
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, datetime.now(UTC).isoformat()),
            )
        applied.append(name)
    return applied


def require_current(db: PgDatabase) -> None:
    """Refuse to run on a schema older than this capmatch: processes never migrate by themselves."""
    missing = pending(db)
    if missing:
        raise SchemaBehind(
            f"the PostgreSQL catalog schema is behind this capmatch ({len(missing)} migration(s) not applied: "
            f"{', '.join(missing)}): run `capmatch db migrate` once, or start with CAPMATCH_DATABASE_MIGRATE=1"
        )
