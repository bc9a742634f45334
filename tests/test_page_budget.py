"""A page of 100,000 list items (4.9 MB, under the byte cap) must end, done or failed with a code,
within 60 s, and the worker must take the next job afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from capmatch.errors import PageTooComplex
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, QuietServer, RunningServer, wait_for_job

ITEMS = 100_000
LIST_PAGE = (
    "<html><body><h1>Listy</h1><h2>Features</h2><ul>"
    + "".join(f"<li>Listy item {i} exports reports to PDF.</li>" for i in range(ITEMS))
    + "</ul></body></html>"
).encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        if self.path == "/list":
            body, kind = LIST_PAGE, "text/html; charset=utf-8"
        else:
            body, kind = (FIXTURES / "docs" / "fetchwire.md").read_bytes(), "text/markdown"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_page_of_100k_list_items_ends_within_60s(tmp_path: Path, pages: str) -> None:
    assert 4_500_000 < len(LIST_PAGE) < 5 * 1024 * 1024
    settings = Settings(home=tmp_path / "home", allow_private_urls=True)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        started = time.monotonic()
        job = client.post("/api/tools", json={"url": f"{pages}/list"}).json()["job_id"]
        after = client.post("/api/tools", json={"url": f"{pages}/fetchwire.md"}).json()["job_id"]
        outcome = wait_for_job(client, job, timeout=90)
        elapsed = time.monotonic() - started
        assert outcome["status"] in ("done", "failed"), outcome
        assert elapsed < 60, f"the job took {elapsed:.0f}s"
        if outcome["status"] == "failed":
            assert outcome["error_code"] == "page_too_complex", outcome
        assert wait_for_job(client, after, timeout=90)["status"] == "done"
        assert client.get("/api/health").json()["status"] == "ok"


@pytest.mark.parametrize("fmt", ["markdown", "rst", "text"])
def test_every_format_has_a_budget(core: Runtime, fmt: str) -> None:
    line = {
        "markdown": "- Listy item {i} exports weekly reports.\n",
        "rst": "* Listy item {i} exports weekly reports.\n",
        "text": "Listy item {i} exports weekly reports.\n\n",
    }[fmt]
    text = "Listy\n=====\n\n" + "".join(line.format(i=i) for i in range(ITEMS))
    started = time.monotonic()
    with pytest.raises(PageTooComplex):
        core.ingest(Source(text=text, text_format=fmt, name="Listy"))
    assert time.monotonic() - started < 30
