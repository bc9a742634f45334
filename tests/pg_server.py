"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, reached by a
unix socket there (no TCP port to collide with), durability switched off since nothing outlives the
run. As root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).

Each test gets a database of its own, copied from a migrated template (a copy is quicker than
running the migrations again).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "capmatch_template"


def find_bin() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PgServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="capmatch-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count()

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=400"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        from capmatch.storage.postgres import PgDatabase, migrate

        template = PgDatabase(self.url(TEMPLATE))
        try:
            migrate(template)
        finally:
            template.close()

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_database(self, migrated: bool = True) -> str:
        """A fresh database (migrated unless told otherwise); returns its URL."""
        name = f"capmatch_test_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if migrated else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.split("@/", 1)[1].split("?", 1)[0]
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
