"""`capmatch worker` as its own process beside `capmatch serve --no-worker`: jobs run under leases,
two at once, and a worker killed mid-job hands its job to the next worker only once its lease
expires, never while it is alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, free_port, wait_for_job

LEASE = "3"


pytestmark = pytest.mark.both_backends


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPMATCH_", "OPENAI_"))}
    database = os.environ.get("CAPMATCH_DATABASE_URL")
    if database:
        # As on separate machines: one shared database, and each process a home (and index) of its own.
        env["CAPMATCH_DATABASE_URL"] = database
        home = home.with_name(f"{home.name}-{uuid.uuid4().hex[:8]}")
    env.update(CAPMATCH_HOME=str(home), CAPMATCH_ALLOW_PRIVATE_URLS="1", HF_HUB_OFFLINE="1")
    env.update(CAPMATCH_WORKER_LEASE_SECONDS=LEASE, **extra)
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "capmatch.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """`capmatch serve --no-worker`: queues jobs, runs none."""
    home = tmp_path / "home"
    port = free_port()
    server = start(["serve", "--no-worker", "--port", str(port)], environment(home))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if client.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield client, home
    finally:
        client.close()
        kill(server)


def wait_until(check: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_the_api_without_a_worker_queues_and_a_worker_process_runs_two_jobs_at_once(
    api: tuple[httpx.Client, Path], docs_server: str, tmp_path: Path
) -> None:
    client, home = api
    jobs = [
        client.post("/api/tools", json={"url": f"{docs_server}/docs/{n}"}).json() for n in ("pgtide.html", "emberq.md")
    ]
    time.sleep(2)
    assert all(client.get(f"/api/jobs/{j['job_id']}").json()["status"] == "queued" for j in jobs), "no worker: queued"
    marker = tmp_path / "marker"
    # Every job of this worker stops at the extracting failpoint: both must be there at the same time.
    worker = start(
        ["worker", "--concurrency", "2"],
        environment(home, CAPMATCH_FAILPOINT="extracting", CAPMATCH_FAILPOINT_MARKER=str(marker)),
    )
    try:

        def both_running() -> bool:
            states = [client.get(f"/api/jobs/{j['job_id']}").json() for j in jobs]
            return all(s["status"] == "running" and s["stage"] == "extracting" for s in states)

        wait_until(both_running)
        held = {client.get(f"/api/jobs/{j['job_id']}").json()["worker"] for j in jobs}
        assert len(held) == 1 and None not in held, "one worker process holds both leases"
    finally:
        kill(worker)
    finisher = start(["worker"], environment(home))
    try:
        for job in jobs:
            done = wait_for_job(client, job["job_id"], timeout=120)
            assert done["status"] == "done" and done["attempts"] == 2, done
            assert done["worker"] not in held, "finished by the second worker after the first one's leases expired"
    finally:
        kill(finisher)


def test_a_killed_worker_job_is_finished_by_the_next_worker_only_after_its_lease_expires(
    api: tuple[httpx.Client, Path], docs_server: str, tmp_path: Path
) -> None:
    client, home = api
    marker = tmp_path / "marker"
    first = start(["worker"], environment(home, CAPMATCH_FAILPOINT="embedding", CAPMATCH_FAILPOINT_MARKER=str(marker)))
    second: subprocess.Popen[bytes] | None = None
    try:
        job = client.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}).json()
        wait_until(marker.exists)  # the first worker holds the job and is stuck at "embedding"
        owner = client.get(f"/api/jobs/{job['job_id']}").json()["worker"]
        second = start(["worker"], environment(home))
        # While the first worker lives, its heartbeat renews the lease: the second never takes the job.
        time.sleep(3 * float(LEASE))
        state = client.get(f"/api/jobs/{job['job_id']}").json()
        assert state["status"] == "running" and state["worker"] == owner and state["attempts"] == 1, state
        kill(first)
        done = wait_for_job(client, job["job_id"], timeout=120)
        assert done["status"] == "done" and done["attempts"] == 2 and done["worker"] != owner, done
        tool = client.get(f"/api/tools/{done['tool_id']}").json()
        assert tool["capabilities"] and client.get("/api/health").json()["tools"] == 1, "stored once"
    finally:
        kill(first)
        if second is not None:
            kill(second)
