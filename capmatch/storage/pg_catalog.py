"""The ``Catalog`` on PostgreSQL: the SQLite catalog's queries run through ``PgDatabase``, with the
few that differ in dialect rewritten here. Writes are serialised by one advisory lock, taken where
SQLite takes its write lock with BEGIN IMMEDIATE, so that a tool and its match edges are computed
against a catalog no other machine changes meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg

from capmatch.storage.catalog import SqliteCatalog
from capmatch.storage.counters import MatchCounts
from capmatch.storage.identities import IdentityMirror
from capmatch.storage.leader import advisory_key
from capmatch.storage.postgres import CATALOG_WRITE_LOCK, PgDatabase, migrate, require_current
from capmatch.storage.transfer import export_lines, read_import
from capmatch.storage.vector_log import VectorLog


def _pg_columns(db: PgDatabase, table: str) -> set[str]:
    rows = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
        (table,),
    )
    return {str(r[0]) for r in rows}


class PgCatalog(SqliteCatalog):
    """The ``Catalog`` (see capmatch.storage.base) on a PostgreSQL database shared by many processes."""

    NAME_ORDER = "lower(name), name"
    CONCAT = "string_agg"

    def __init__(self, url: str, pool_size: int = 10, apply_migrations: bool = False) -> None:
        # Not SqliteCatalog.__init__: no file, and no migration unless asked for (`capmatch db migrate`).
        self.url = url
        self.db = PgDatabase(url, pool_size)
        self._derived: dict[str, tuple[str, object]] = {}
        self._counts = MatchCounts(self._write_counts)
        self.vector_log = VectorLog(lambda: self.db)
        self._identities = IdentityMirror(self.vector_log, self._load_identities, lambda: self.db.in_transaction)
        if apply_migrations:
            migrate(self.db)
        require_current(self.db)

    # PgDatabase speaks the part of sqlite3.Connection that SqliteCatalog's queries use.
    @property
    def conn(self) -> Any:
        return self.db

    def close(self) -> None:
        self._counts.flush()
        self.db.close()

    def _write_counts(self, batch: dict[str, int]) -> None:
        with self.db.transaction():  # rows locked in sorted order: replicas flushing at once never deadlock
            self.db.executemany(
                "UPDATE tools SET times_matched = times_matched + ? WHERE id = ?",
                [(n, i) for i, n in sorted(batch.items())],
            )

    @contextmanager
    def write(self) -> Iterator[None]:
        with self.db.transaction(lock=CATALOG_WRITE_LOCK):
            yield

    @contextmanager
    def leader(self, role: str) -> Iterator[None]:
        conn = self.db.connect()  # its own session: the lock lives exactly as long as it
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(role),))  # standbys wait here
            yield
        finally:
            conn.close()

    # ---- dialect differences -----------------------------------------------------------------------
    def find_by_name(self, text: str) -> str | None:
        text = text.strip()
        if not text:
            return None
        row = self.db.execute(
            "SELECT id FROM tools WHERE id = ? OR lower(name) = lower(?) ORDER BY id = ? DESC LIMIT 1",
            (text, text, text),
        ).fetchone()
        if row is not None:
            return str(row[0])
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # ILIKE: SQLite's LIKE ignores ASCII case, and so must this.
        rows = self.db.execute("SELECT id FROM tools WHERE name ILIKE ? ESCAPE '\\' LIMIT 2", (like,)).fetchall()
        return str(rows[0][0]) if len(rows) == 1 else None

    def short_documents(self, max_words: int) -> set[str]:
        rows = self.db.execute(
            """SELECT tool_id FROM sources WHERE length(btrim(text)) - length(replace(replace(btrim(text), ' ', ''),
                   chr(10), '')) + 1 <= ?""",
            (max_words,),
        )
        return {r[0] for r in rows}

    # ---- backup ------------------------------------------------------------------------------------
    def export(self, out: IO[str]) -> int:
        self._counts.flush()
        # One snapshot: writers on other machines cannot tear the export.
        with self.db.transaction(isolation="REPEATABLE READ"):
            tools = int(self.db.execute("SELECT COUNT(*) FROM tools").fetchone()[0])  # type: ignore[index]
            for line in export_lines(self.db, self.meta("embedding_model")):  # type: ignore[arg-type]
                out.write(line + "\n")
        return tools

    def import_file(self, path: Path, embedding_model: str, dimension: int) -> int:
        tools = read_import(
            self.db,  # type: ignore[arg-type]
            path,
            embedding_model,
            dimension,
            columns=_pg_columns,
            db_errors=(psycopg.Error,),
        )
        # The rows kept their ids: move each identity past them, or the next insert collides.
        for table in ("capabilities", "evidence"):
            self.db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )
        return tools
