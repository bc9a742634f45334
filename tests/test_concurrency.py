"""50 submissions at once — duplicates of the same URL and the same content at different URLs —
end with one tool per distinct content, every job finished, and no "database is locked"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from capmatch.settings import Settings

from .conftest import RunningServer, wait_for_job

pytestmark = pytest.mark.both_backends  # on PostgreSQL: CAPMATCH_DATABASE_URL, read by Settings

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


def test_fifty_concurrent_submissions(tmp_path: Path, docs_server: str) -> None:
    urls = []
    for doc in DOCS:
        urls += [f"{docs_server}/docs/{doc}"] * 3  # the same URL three times
        urls += [f"{docs_server}/docs/{doc}?copy={i}" for i in (1, 2)]  # same content, other URLs
    assert len(urls) == 50
    settings = Settings(home=tmp_path / "home", allow_private_urls=True, submit_rate_per_minute=1000)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=60) as client:

        def submit(url: str) -> httpx.Response:
            with httpx.Client(base_url=server.url, timeout=60) as own:
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
