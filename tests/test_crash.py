"""Jobs survive crashes: a real `capmatch serve` process is killed with SIGKILL at several points of
the pipeline (failpoints), restarted on the same catalog, and the job then finishes exactly once —
no duplicate or half-stored tool, and a vector index that agrees with the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from capmatch.errors import LeaseLost
from capmatch.models import JobStatus
from capmatch.settings import get_settings
from capmatch.storage.backends import open_storage
from capmatch.storage.jobs import MAX_ATTEMPTS

from .conftest import ROOT, free_port, wait_for_job

pytestmark = pytest.mark.both_backends
POINTS = ["fetching", "extracting", "embedding", "indexing", "index-saved", "stored"]


class ServerProcess:
    def __init__(self, home: Path, failpoint: str | None = None, marker: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPMATCH_", "OPENAI_"))}
        if os.environ.get("CAPMATCH_DATABASE_URL"):  # the PostgreSQL run: the same shared database
            env["CAPMATCH_DATABASE_URL"] = os.environ["CAPMATCH_DATABASE_URL"]
        # A short lease: the restarted server takes over the killed one's job once it expires.
        env.update(
            CAPMATCH_HOME=str(home),
            CAPMATCH_ALLOW_PRIVATE_URLS="1",
            HF_HUB_OFFLINE="1",
            CAPMATCH_WORKER_LEASE_SECONDS="2",
        )
        if failpoint:
            env.update(CAPMATCH_FAILPOINT=failpoint, CAPMATCH_FAILPOINT_MARKER=str(marker))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "capmatch.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError("capmatch serve did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def wait_for(path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the server never reached the failpoint ({path.name})")
        time.sleep(0.05)


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_mid_ingestion_then_restart(point: str, tmp_path: Path, docs_server: str) -> None:
    home, marker = tmp_path / "home", tmp_path / "reached"
    first = ServerProcess(home, failpoint=point, marker=marker)
    with httpx.Client(base_url=first.url, timeout=10) as client:
        job = client.post("/api/tools", json={"url": f"{docs_server}/docs/pgtide.html"}).json()
    wait_for(marker)
    first.kill()  # SIGKILL: no shutdown code runs

    second = ServerProcess(home)
    try:
        with httpx.Client(base_url=second.url, timeout=30) as client:
            done = wait_for_job(client, job["job_id"])
            assert done["status"] == "done", done
            assert done["attempts"] == 2, "the interrupted attempt was requeued once, not lost or doubled"
            tools = client.get("/api/tools").json()
            assert tools["total"] == 1, f"exactly one tool after a crash at {point}"
            tool = client.get(f"/api/tools/{done['tool_id']}").json()
            assert len(tool["capabilities"]) >= 3 and tool["grounding_rate"] == 1.0
            health = client.get("/api/health").json()
            assert health["index"]["count"] == health["capabilities"] == len(tool["capabilities"])
            # The recovered catalog keeps working: similar search and a second tool.
            again = client.post("/api/tools", json={"url": f"{docs_server}/docs/emberq.md"}).json()
            assert wait_for_job(client, again["job_id"])["status"] == "done"
            assert [h["tool_id"] for h in client.get(f"/api/tools/{tool['id']}/similar").json()["results"]]
            health = client.get("/api/health").json()
            assert health["tools"] == 2 and health["index"]["count"] == health["capabilities"]
    finally:
        second.kill()


def test_a_job_that_stops_advancing_loses_its_lease_then_fails_with_the_reason(tmp_path: Path) -> None:
    storage = open_storage(get_settings())
    catalog, jobs = storage.catalog, storage.jobs
    job, _ = jobs.submit("https://example.com/docs", "auto")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        lease = jobs.claim_next("worker-a", lease_seconds=3600)
        assert lease is not None and lease.job.id == job.id and lease.job.attempts == attempt
        assert jobs.requeue_expired() == (0, 0), "a job under a live lease is left alone"
        assert jobs.claim_next("worker-b", lease_seconds=3600) is None, "nobody else may take it"
        catalog.conn.execute("UPDATE jobs SET lease_expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (job.id,))
        requeued, failed = jobs.requeue_expired()
        if attempt < MAX_ATTEMPTS:
            assert (requeued, failed) == (1, 0) and jobs.get(job.id).status == JobStatus.QUEUED
            with pytest.raises(LeaseLost):
                jobs.finish(lease, "late-tool")  # the worker that lost the job cannot finish it
        else:
            assert (requeued, failed) == (0, 1)
    final = jobs.get(job.id)
    assert final.status == JobStatus.FAILED and final.error_code == "interrupted"
    assert f"interrupted {MAX_ATTEMPTS} times" in (final.error or "")
