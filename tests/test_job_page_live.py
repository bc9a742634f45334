"""The job page's live view (job.js) in a real browser: a page opened while its job waits in the
queue turns into "Unchanged: … already in the catalog as <tool>" when a worker finds the content
already there, with the steps that never ran marked skipped."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, RunningServer

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    reason = "Debian's chromium is not installed: apt-get install -y chromium (make test does it when it can)"
    if os.environ.get("CAPMATCH_REQUIRE_BROWSER") == "1":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


def test_the_live_job_page_reports_unchanged(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, docs_server: str
) -> None:
    settings = Settings(home=tmp_path / "live", allow_private_urls=True)
    Runtime(settings, embedder=embedder).ingest(Source(path=FIXTURES / "docs" / "fetchwire.md"))
    # No worker at first, so the page is opened on a queued job and polls it.
    with RunningServer(settings, start_worker=False) as front, sync_playwright() as p:
        job = httpx.post(front.url + "/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}).json()
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{front.url}/jobs/{job['job_id']}")
        expect(page.locator("#job-status")).to_have_text("queued")
        with RunningServer(settings):  # a second process's worker on the same catalog takes the job
            expect(page.locator("#job-status")).to_have_text("done", timeout=90_000)
        expect(page.locator("#job-verb")).to_have_text("Unchanged: this content is already in the catalog as")
        expect(page.locator("#job-tool")).to_have_text("Fetchwire")
        expect(page.locator("#stages .stage.skipped")).to_have_count(8)
        expect(page.locator("#job-notice")).to_be_hidden()
        browser.close()
        assert not errors, errors
