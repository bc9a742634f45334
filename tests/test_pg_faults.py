"""Faults of a multi-machine deployment on PostgreSQL, with real processes: each worker and API
replica a `capmatch` process of its own home (as on its own machine), one shared database.

- a worker SIGKILLed at each failpoint: the job ends done once, by another worker, after the lease
  expires;
- a frozen worker (SIGSTOP) that resumes after another worker finished its job: its late writes are
  refused and change nothing;
- restarting an API replica leaves other workers' running jobs alone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, free_port, wait_for_job
from .test_crash import POINTS
from .test_worker import LEASE, environment, kill, start, wait_until


@pytest.fixture
def shared(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CAPMATCH_DATABASE_URL", pg_url)  # environment() hands it to every process
    return pg_url


def serve(home: Path, *args: str) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = free_port()
    process = start(["serve", "--port", str(port), *args], environment(home))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 90
    while True:
        try:
            if client.get("/api/health").status_code == 200:
                return process, client
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                kill(process)
                raise
            time.sleep(0.2)


@pytest.fixture
def api(shared: str, tmp_path: Path) -> Iterator[httpx.Client]:
    process, client = serve(tmp_path / "api", "--no-worker")
    try:
        yield client
    finally:
        client.close()
        kill(process)


@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_any_point_hands_its_job_to_another_once(
    point: str, api: httpx.Client, docs_server: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    first = start(
        ["worker"], environment(tmp_path / "w1", CAPMATCH_FAILPOINT=point, CAPMATCH_FAILPOINT_MARKER=str(marker))
    )
    second: subprocess.Popen[bytes] | None = None
    try:
        job = api.post("/api/tools", json={"url": f"{docs_server}/docs/pgtide.html"}).json()
        wait_until(marker.exists)
        owner = api.get(f"/api/jobs/{job['job_id']}").json()["worker"]
        kill(first)  # SIGKILL: no shutdown code runs
        second = start(["worker"], environment(tmp_path / "w2"))
        done = wait_for_job(api, job["job_id"], timeout=120)
        assert done["status"] == "done" and done["attempts"] == 2 and done["worker"] != owner, done
        health = api.get("/api/health").json()
        assert health["tools"] == 1, f"exactly one tool after a kill at {point}"
        assert health["index"]["count"] == health["capabilities"] > 0
    finally:
        kill(first)
        if second is not None:
            kill(second)


def test_a_frozen_worker_that_wakes_up_late_changes_nothing(
    api: httpx.Client, docs_server: str, tmp_path: Path
) -> None:
    log = tmp_path / "frozen.log"
    with log.open("wb") as stderr:
        frozen = subprocess.Popen(  # as start(), but its log kept: it must say it lost the lease
            [sys.executable, "-m", "capmatch.cli", "worker"],
            cwd=ROOT,
            env=environment(tmp_path / "w1"),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    other: subprocess.Popen[bytes] | None = None
    try:
        # A page that takes 1.5 s to arrive: the worker is mid-job when it is frozen.
        job = api.post("/api/tools", json={"url": f"{docs_server}/slow-pages/tiny.md"}).json()
        wait_until(lambda: api.get(f"/api/jobs/{job['job_id']}").json()["status"] == "running")
        frozen.send_signal(signal.SIGSTOP)  # no heartbeat now: its lease runs out
        owner = api.get(f"/api/jobs/{job['job_id']}").json()["worker"]
        other = start(["worker"], environment(tmp_path / "w2"))
        done = wait_for_job(api, job["job_id"], timeout=120)
        assert done["status"] == "done" and done["worker"] != owner and done["attempts"] == 2, done
        frozen.send_signal(signal.SIGCONT)
        wait_until(lambda: "lease lost; another worker owns it now" in log.read_text(), timeout=30)
        after = api.get(f"/api/jobs/{job['job_id']}").json()
        assert after == done, "the late worker's writes were refused"
        assert api.get("/api/health").json()["tools"] == 1
    finally:
        kill(frozen)
        if other is not None:
            kill(other)


def test_restarting_an_api_replica_leaves_other_workers_jobs_alone(
    shared: str, docs_server: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    replica, client = serve(tmp_path / "api-1", "--no-worker")
    worker = start(
        ["worker"], environment(tmp_path / "w1", CAPMATCH_FAILPOINT="embedding", CAPMATCH_FAILPOINT_MARKER=str(marker))
    )
    restarted: subprocess.Popen[bytes] | None = None
    try:
        job = client.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}).json()
        wait_until(marker.exists)
        before = client.get(f"/api/jobs/{job['job_id']}").json()
        kill(replica)
        client.close()
        # A replica with its own in-process worker comes up: start-up recovery must not touch the job.
        restarted, client = serve(tmp_path / "api-2")
        time.sleep(3 * float(LEASE))
        state = client.get(f"/api/jobs/{job['job_id']}").json()
        assert state["status"] == "running" and state["worker"] == before["worker"] and state["attempts"] == 1, state
    finally:
        client.close()
        kill(worker)
        kill(replica)
        if restarted is not None:
            kill(restarted)
