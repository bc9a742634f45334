"""50 submissions at once — duplicates of the same URL and the same content at different URLs —
end with one tool per distinct content, every job finished, and no "database is locked"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from capmatch.settings import Settings

from .conftest import RunningServer, wait_for_job
from .test_worker import environment, kill, start

DOCS = [
    "fetchwire.md",
    "pliant.rst",
    "ferrox.md",
    "emberq.md",
    "pgtide.html",
    "relaywork.md",
    "wardline-guard.html",
    "clearsignal.html",
    "tinyshield.md",
    "sextant.md",
]


@pytest.mark.both_backends  # on PostgreSQL: CAPMATCH_DATABASE_URL, read by Settings
def test_fifty_concurrent_submissions(tmp_path: Path, docs_server: str) -> None:
    settings = Settings(home=tmp_path / "home", allow_private_urls=True, submit_rate_per_minute=1000)
    with RunningServer(settings) as server:
        fifty_submissions(server.url, docs_server)


def test_fifty_concurrent_submissions_three_worker_processes_on_postgresql(
    pg_url: str, tmp_path: Path, docs_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPMATCH_DATABASE_URL", pg_url)
    settings = Settings(home=tmp_path / "api", allow_private_urls=True, submit_rate_per_minute=1000)
    workers = [start(["worker"], environment(tmp_path / f"worker-{n}")) for n in range(3)]
    try:
        with RunningServer(settings, start_worker=False) as server:
            finished = fifty_submissions(server.url, docs_server)
        assert len({j["worker"] for j in finished}) >= 2, "the jobs were shared between worker processes"
    finally:
        for worker in workers:
            kill(worker)


def fifty_submissions(server_url: str, docs_server: str) -> list[dict[str, object]]:
    urls = []
    for doc in DOCS:
        urls += [f"{docs_server}/docs/{doc}"] * 3  # the same URL three times
        urls += [f"{docs_server}/docs/{doc}?copy={i}" for i in (1, 2)]  # same content, other URLs
    assert len(urls) == 50
    with httpx.Client(base_url=server_url, timeout=60) as client:

        def submit(url: str) -> httpx.Response:
            with httpx.Client(base_url=server_url, timeout=60) as own:
                return own.post("/api/tools", json={"url": url})

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(submit, urls))
        assert [r.status_code for r in responses] == [202] * 50, [r.text for r in responses if r.status_code != 202]
        job_ids = {r.json()["job_id"] for r in responses}
        # A URL submitted while its job is open gets that job back; once it finished, a new job
        # finds the content unchanged. So jobs number between the 30 URLs and the 50 requests.
        assert 30 <= len(job_ids) < 50, len(job_ids)
        finished = [wait_for_job(client, job_id, timeout=300) for job_id in job_ids]
        problems = [j for j in finished if j["status"] != "done"]
        assert not problems, problems
        assert not any("locked" in str(j.get("error")) for j in finished)

        tools = client.get("/api/tools", params={"limit": 100}).json()
        assert tools["total"] == len(DOCS), [t["id"] for t in tools["tools"]]
        by_url = {j["source"].split("?")[0]: j["tool_id"] for j in finished}
        for j in finished:  # every URL of one content points at that content's single tool
            assert j["tool_id"] == by_url[j["source"].split("?")[0]]
        health = client.get("/api/health").json()
        assert health["tools"] == len(DOCS) and health["index"]["count"] == health["capabilities"]
        return finished
