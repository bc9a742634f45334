"""What only the PostgreSQL backend has: migrations applied by `capmatch db migrate` alone, claims by
many workers at once that never overlap, NOTIFY waking idle workers, and one write lock shared by
every process. (The store, job, API, crash and concurrency suites run on both backends.)"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from capmatch.cli import app
from capmatch.errors import InvalidInput, SchemaBehind
from capmatch.runtime import Runtime
from capmatch.settings import Settings, get_settings
from capmatch.storage.pg_catalog import PgCatalog
from capmatch.storage.pg_jobs import PgJobQueue

from .conftest import RunningServer, wait_for_job
from .pg_server import PgServer

BEHIND = (
    "the PostgreSQL catalog schema is behind this capmatch (2 migration(s) not applied: 0001_initial.sql, "
    "0002_vector_changes.sql): "
    "run `capmatch db migrate` once, or start with CAPMATCH_DATABASE_MIGRATE=1"
)


def test_a_process_refuses_an_old_schema_until_db_migrate(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_server.create_database(migrated=False)
    monkeypatch.setenv("CAPMATCH_DATABASE_URL", url)
    with pytest.raises(SchemaBehind) as refused:
        Runtime(get_settings())
    assert refused.value.message == BEHIND
    runner = CliRunner()
    for command in (["tools"], ["serve"], ["worker"]):
        refused_cli = runner.invoke(app, command)
        assert refused_cli.exit_code == 1, command
        assert " ".join(refused_cli.stderr.split()) == f"error: {BEHIND}", command

    migrated = runner.invoke(app, ["db", "migrate"])
    assert migrated.exit_code == 0, migrated.output
    name = url.split("@/", 1)[1].split("?", 1)[0]
    assert (
        " ".join(migrated.stderr.split())
        == f"PostgreSQL {name} on local socket: 2 migrations applied: 0001_initial.sql, 0002_vector_changes.sql"
    )
    again = runner.invoke(app, ["db", "migrate"])
    assert " ".join(again.stderr.split()) == f"PostgreSQL {name} on local socket: 0 migrations applied"
    core = Runtime(get_settings())
    assert core.catalog.tool_count() == 0


def test_database_migrate_lets_a_process_migrate_at_start(pg_server: PgServer) -> None:
    url = pg_server.create_database(migrated=False)
    catalog = PgCatalog(url, apply_migrations=True)
    try:
        assert catalog.tool_count() == 0 and catalog.generation() == "0"
    finally:
        catalog.close()


def test_only_postgresql_urls_are_taken(tmp_path: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        Runtime(Settings(database_url="mysql://db/capmatch"))
    assert refused.value.message == (
        "CAPMATCH_DATABASE_URL must start with postgresql:// (got mysql://); unset it to keep the catalog in "
        "SQLite under CAPMATCH_HOME"
    )


def test_many_workers_on_two_machines_claim_each_job_once(pg_url: str) -> None:
    machines = [PgCatalog(pg_url), PgCatalog(pg_url)]  # two pools: as two processes
    queues = [PgJobQueue(c) for c in machines]
    submitted = {queues[0].submit(f"https://example.com/{n}", "extractive")[0].id for n in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        queue = queues[n % 2]
        while (lease := queue.claim_next(f"w{n}", 60)) is not None:
            with lock:
                claimed.append(lease.job.id)
            queue.finish(lease, "tool")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert sorted(claimed) == sorted(submitted), "every job claimed, none twice"
    assert {j.status.value for j in queues[1].list(limit=100)} == {"done"}


def test_a_submission_wakes_an_idle_worker_at_once(pg_url: str) -> None:
    worker_side, api_side = PgJobQueue(PgCatalog(pg_url)), PgJobQueue(PgCatalog(pg_url))
    woken, stop = threading.Event(), threading.Event()
    worker_side.subscribe(woken.set, stop)
    try:
        assert woken.wait(5), "listening (it wakes once on connecting)"
        time.sleep(0.3)
        woken.clear()
        started = time.monotonic()
        api_side.submit("https://example.com/new", "extractive")
        assert woken.wait(5)
        assert time.monotonic() - started < 0.5, "NOTIFY, not the one-second poll"
    finally:
        stop.set()


def test_one_write_lock_for_every_process(pg_url: str) -> None:
    first, second = PgCatalog(pg_url), PgCatalog(pg_url)
    order: list[str] = []
    inside = threading.Event()

    def other_writer() -> None:
        inside.wait(5)
        with second.write():
            order.append("second")

    thread = threading.Thread(target=other_writer)
    thread.start()
    with first.write():
        inside.set()
        time.sleep(0.5)  # the other writer waits on the advisory lock meanwhile
        first.set_meta("probe", "1")
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]
    assert second.meta("probe") == "1"


def test_the_submission_limit_holds_across_api_replicas(pg_url: str, tmp_path: Path, docs_server: str) -> None:
    def replica(name: str) -> RunningServer:
        settings = Settings(
            home=tmp_path / name, database_url=pg_url, allow_private_urls=True, submit_rate_per_minute=3
        )
        return RunningServer(settings, start_worker=False)

    with replica("a") as a, replica("b") as b:
        statuses = []
        for n, server in enumerate([a, b, a, b, a]):
            response = httpx.post(f"{server.url}/api/tools", json={"url": f"{docs_server}/docs/sextant.md?{n}"})
            statuses.append(response.status_code)
        assert statuses == [202, 202, 202, 429, 429], "3 a minute in all, not 3 per replica"
        refused = httpx.post(f"{b.url}/api/tools", json={"url": f"{docs_server}/docs/ferrox.md"})
        assert refused.json()["error"]["message"].startswith("more than 3 submissions in a minute from this client")
        assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_a_write_lock_held_elsewhere_too_long_is_a_503(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("capmatch.storage.postgres.LOCK_TIMEOUT_MS", 1500)  # as SQLite's busy timeout
    settings = Settings(home=tmp_path / "api", database_url=pg_url)
    elsewhere = PgCatalog(pg_url)
    with RunningServer(settings, start_worker=False) as running, httpx.Client(base_url=running.url, timeout=30) as c:
        with elsewhere.write():  # another machine importing: the catalog write lock held for long
            started = time.monotonic()
            response = c.delete("/api/tools/fetchwire")
            waited = time.monotonic() - started
        assert response.status_code == 503, (response.status_code, response.text[:300])
        assert response.headers["retry-after"] and response.json()["error"]["code"] == "database_busy"
        assert waited < 10
        assert c.delete("/api/tools/fetchwire").status_code == 404, "once the lock is gone, an answer"


def test_a_tool_added_through_one_replica_is_found_on_another_within_2_s(
    pg_url: str, tmp_path: Path, docs_server: str
) -> None:
    def replica(name: str, worker: bool) -> RunningServer:
        settings = Settings(home=tmp_path / name, database_url=pg_url, allow_private_urls=True)
        return RunningServer(settings, start_worker=worker)

    query = {"q": "queue background jobs in postgres", "k": 3}
    with (
        replica("a", True) as a,
        replica("b", False) as b,
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        assert on_b.get("/api/search", params=query).json()["results"] == []  # b has read (and cached)
        job = on_a.post("/api/tools", json={"url": f"{docs_server}/docs/pgtide.html"}).json()
        done = wait_for_job(on_a, job["job_id"])
        assert done["status"] == "done", done
        committed = time.monotonic()
        while not on_b.get("/api/search", params=query).json()["results"]:
            assert time.monotonic() - committed < 2, "not found on the other replica within 2 s"
            time.sleep(0.05)
        hits = on_b.get("/api/search", params=query).json()["results"]
        assert hits[0]["tool_id"] == done["tool_id"]
