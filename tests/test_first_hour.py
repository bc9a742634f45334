"""Issue 14, a new user's first hour: a submission that changes nothing says so (API, job page, CLI);
a URL whose host does not resolve fails `fetch_failed` whether or not private URLs are allowed, and
a job that failed fetching carries no "no LLM configured" notice. Real server, real worker, real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from capmatch.cli import app
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, RunningServer, wait_for_job

UNRESOLVABLE = "http://no-such-host.invalid/docs.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, docs_server: str) -> Iterator[httpx.Client]:
    """A catalog that already holds fetchwire (read from its file, as the demo catalog does)."""
    settings = Settings(home=tmp_path_factory.mktemp("first-hour"), allow_private_urls=True)
    Runtime(settings).ingest(Source(path=FIXTURES / "docs" / "fetchwire.md"))
    with RunningServer(settings) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        yield client


def submit(client: httpx.Client, url: str) -> dict[str, object]:
    response = client.post("/api/tools", json={"url": url})
    assert response.status_code == 202, response.text
    return wait_for_job(client, str(response.json()["job_id"]))


def test_content_already_in_the_catalog_is_reported_unchanged(server: httpx.Client, docs_server: str) -> None:
    before = server.get("/api/health").json()
    job = submit(server, f"{docs_server}/docs/fetchwire.md")
    assert job["status"] == "done" and job["outcome"] == "unchanged" and job["existing"] is True
    assert job["tool_id"] == "fetchwire"
    assert job["notice"] == "unchanged: this content is already in the catalog as fetchwire; nothing was changed"
    assert server.get("/api/health").json()["tools"] == before["tools"]

    page = server.get(f"/jobs/{job['job_id']}").text
    assert 'data-outcome="unchanged"' in page
    assert page.count('<span class="state">skipped</span>') == 8  # segmenting … storing never ran
    assert '<p id="job-notice" class="notice" hidden>' in page  # said once, by the line below
    assert re.search(
        r"Unchanged: this content is already in the catalog as</span>\s*<a id=\"job-tool\" "
        r"href=\"/tools/fetchwire\">Fetchwire</a>",
        page,
    ), page


def test_new_content_is_reported_created(server: httpx.Client, docs_server: str) -> None:
    job = submit(server, f"{docs_server}/docs/pliant.rst")
    assert job["status"] == "done" and job["outcome"] == "created" and job["existing"] is False
    page = server.get(f"/jobs/{job['job_id']}").text
    assert 'data-outcome="created"' in page and "Done:</span>" in page and "already in the catalog" not in page


def test_an_unresolvable_host_fails_fetch_failed_without_the_llm_notice(server: httpx.Client) -> None:
    job = submit(server, UNRESOLVABLE)
    assert job["status"] == "failed" and job["error_code"] == "fetch_failed", job
    assert job["error"] == (
        f"could not fetch {UNRESOLVABLE}: cannot resolve host 'no-such-host.invalid': Name or service not known"
    )
    assert job["notice"] is None and job["backend"] is None  # nothing was extracted: no backend notice
    page = server.get(f"/jobs/{job['job_id']}").text
    assert '<p id="job-notice" class="notice" hidden></p>' in page
    assert "no LLM" not in page


def test_an_unresolvable_host_fails_the_same_way_when_private_urls_are_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("strict"))
    assert not settings.allow_private_urls
    with RunningServer(settings) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        job = submit(client, UNRESOLVABLE)  # accepted, not refused at submission
        assert job["status"] == "failed" and job["error_code"] == "fetch_failed", job
        assert "cannot resolve host 'no-such-host.invalid'" in str(job["error"])
        private = client.post("/api/tools", json={"url": "http://127.0.0.1/x"})  # a refusal is still at once
        assert private.status_code == 400 and private.json()["error"]["code"] == "private_address"


def test_the_cli_says_unchanged_and_fetch_failed() -> None:
    runner = CliRunner()
    page = str(FIXTURES / "docs" / "pliant.rst")
    assert runner.invoke(app, ["add", page]).exit_code == 0
    again = runner.invoke(app, ["add", page])
    assert again.exit_code == 0
    assert "unchanged pliant:" in again.stderr
    assert "(unchanged: this content is already in the catalog as pliant; nothing was changed)" in again.stderr
    failed = runner.invoke(app, ["add", UNRESOLVABLE])
    assert failed.exit_code == 1 and failed.stdout == ""
    assert failed.stderr.strip() == (
        f"error: could not fetch {UNRESOLVABLE}: cannot resolve host 'no-such-host.invalid': Name or service not known"
    )
