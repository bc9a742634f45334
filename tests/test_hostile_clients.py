"""Hostile clients against a real server on loopback (default settings): cross-site form posts, a
foreign Host header, huge bodies, huge offsets, a locked database; and the smaller holes: leftover
temporary index files, control and bidi characters in names, HTML in the Markdown export."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capmatch.matching.render import comparison_markdown
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, RunningServer

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = Settings(home=tmp_path_factory.mktemp("clients"), allow_private_urls=True)
    with RunningServer(settings, start_worker=False) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def token_of(client: httpx.Client) -> str:
    page = client.get("/submit").text
    return page.split('name="form_token" value="', 1)[1].split('"', 1)[0]


def job_count(client: httpx.Client) -> int:
    return len(client.get("/api/jobs").json())


def test_cross_site_form_post_is_refused(client: httpx.Client) -> None:
    before = job_count(client)
    form = {"url": "https://example.com/docs"}
    for headers in ({"Origin": EVIL}, {"Referer": EVIL + "/attack.html"}, {"Origin": "null"}):
        refused = client.post("/submit", data=form, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, (headers, refused.status_code, refused.text[:200])
    # Even with a valid token taken from the page, another origin may not post it.
    refused = client.post("/submit", data={**form, "form_token": token_of(client)}, headers={"Origin": EVIL})
    assert refused.status_code == 403
    # A simple cross-site POST to the API is refused too.
    assert client.post("/api/reindex", headers={"Origin": EVIL}).status_code == 403
    assert job_count(client) == before, "nothing was queued"


def test_the_form_needs_its_token(client: httpx.Client, server: RunningServer) -> None:
    before = job_count(client)
    form = {"url": "http://127.0.0.1:9/x.md"}
    assert client.post("/submit", data=form, follow_redirects=False).status_code == 403
    assert client.post("/submit", data={**form, "form_token": "1.abc"}, follow_redirects=False).status_code == 403
    assert job_count(client) == before
    accepted = client.post(
        "/submit",
        data={**form, "form_token": token_of(client)},
        headers={"Origin": server.url},
        follow_redirects=False,
    )
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/jobs/")


def test_a_foreign_host_header_is_refused(client: httpx.Client, server: RunningServer) -> None:
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/tools", headers={"Host": f"rebound.example:{server.port}"}).status_code == 400
    assert client.get("/api/health", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    assert client.get("/api/health").status_code == 200  # 127.0.0.1:<port>


def test_allowed_hosts_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", allowed_hosts="docs.example, 127.0.0.1")
    with RunningServer(settings, start_worker=False) as running, httpx.Client(base_url=running.url) as c:
        assert c.get("/api/tools", headers={"Host": "docs.example"}).status_code == 200
        assert c.get("/api/tools", headers={"Host": "evil.example"}).status_code == 400


def raw_request(server: RunningServer, head: bytes, body_chunks: Iterator[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and hung up before the body was all sent
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_a_100_mb_json_body_is_refused(server: RunningServer) -> None:
    size = 100 * 1024 * 1024
    head = (
        f"POST /api/tools HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = raw_request(server, head, iter([b'{"url": "' + b"a" * 65536]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 10


def test_a_chunked_body_over_the_limit_is_refused(server: RunningServer) -> None:
    head = (
        f"POST /api/tools HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"a" * 65536
    chunks = iter([f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 24)  # 1.5 MB
    assert raw_request(server, head, chunks).startswith(b"HTTP/1.1 413")


def test_a_huge_offset_is_a_422(client: httpx.Client) -> None:
    for query in (f"offset={2**70}", f"offset={2**63}", f"limit={2**70}"):
        response = client.get(f"/api/tools?{query}")
        assert response.status_code == 422, (query, response.status_code)


def test_a_locked_database_is_a_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docs_server: str) -> None:
    monkeypatch.setattr("capmatch.storage.sqlite.BUSY_TIMEOUT_MS", 1500)
    settings = Settings(home=tmp_path / "locked", allow_private_urls=True)
    with RunningServer(settings, start_worker=False) as running, httpx.Client(base_url=running.url) as c:
        holder = sqlite3.connect(settings.db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process importing: the write lock held for long
        try:
            started = time.monotonic()
            response = c.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}, timeout=30)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503, (response.status_code, response.text[:300])
        assert response.headers["retry-after"] and response.json()["error"]["code"] == "database_busy"
        assert waited < 10
        # Once the lock is gone the same request is accepted.
        assert c.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}).status_code == 202


def test_leftover_temporary_index_files_are_removed_at_start(core: Runtime) -> None:
    folder = core.settings.index_dir
    folder.mkdir(parents=True, exist_ok=True)
    leftovers = [folder / "index-deadbeef.faiss.tmp", folder / "index-0123.faiss.tmp"]
    for path in leftovers:
        path.write_bytes(b"\x00" * 1024)
    core.verify_index()
    assert not any(p.exists() for p in leftovers)


def test_control_and_bidi_characters_are_removed_from_names(core: Runtime) -> None:
    text = (FIXTURES / "docs" / "fetchwire.md").read_text()
    tool = core.ingest(Source(text=text, text_format="markdown", name="Fetch\x00wire\u202egnp.exe\u200b\u2066")).tool
    assert tool.name == "Fetchwiregnp.exe"
    assert core.catalog.get_tool(tool.id).name == "Fetchwiregnp.exe"


def test_the_markdown_comparison_escapes_html(core: Runtime) -> None:
    a = core.ingest(Source(path=FIXTURES / "docs" / "fetchwire.md", name="<script>alert(1)</script>Fetch")).tool
    b = core.ingest(Source(path=FIXTURES / "docs" / "ferrox.md", name='<img src=x onerror="alert(2)">')).tool
    markdown = comparison_markdown(core.compare(a.id, b.id))
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Fetch" in markdown
