"""Shared fixtures: an isolated CAPMATCH_HOME per test, the real MiniLM model loaded once, and real
HTTP servers on loopback (a docs server with good and bad pages, and the capmatch API itself)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import uvicorn

from capmatch.embeddings.model import SentenceTransformerEmbedder, get_embedder
from capmatch.evaluation.fake_llm import LLMServer
from capmatch.runtime import Runtime
from capmatch.settings import Settings, get_settings

from .pg_server import PgServer, find_bin

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PAGES = Path(__file__).resolve().parent / "pages"
# CAPMATCH_SHARED_DATA, as the app reads it; a relative path is taken from the repository root.
SHARED_DATA = ROOT / get_settings().shared_data


def require_shared(path: Path = SHARED_DATA) -> None:
    """Skip a test that reads ../shared/data when it is not beside this clone."""
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set CAPMATCH_SHARED_DATA)")


# ---- storage backends ------------------------------------------------------------------------------
# A module marked `pytestmark = pytest.mark.both_backends` runs each test on SQLite and on PostgreSQL
# (a server started once per run). CI sets CAPMATCH_REQUIRE_POSTGRES=1: there a missing PostgreSQL is
# an error, not a skip.
BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_bin()
    if bin_dir is None:
        message = "PostgreSQL is not installed (no initdb): apt-get install postgresql"
        if os.environ.get("CAPMATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (CAPMATCH_REQUIRE_POSTGRES=1: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    server = PgServer(bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh migrated database; every pool opened on it is closed after the test, then it is dropped."""
    from capmatch.storage.counters import flush_all
    from capmatch.storage.postgres import PgDatabase

    url = pg_server.create_database()
    opened: list[PgDatabase] = []
    original = PgDatabase.__init__

    def recording(self: PgDatabase, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    PgDatabase.__init__ = recording  # type: ignore[method-assign]
    try:
        yield url
    finally:
        PgDatabase.__init__ = original  # type: ignore[method-assign]
        flush_all()  # counters pending for this database, before its pools close
        for db in opened:
            db.close()
        pg_server.drop_database(url)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, request: pytest.FixtureRequest
) -> Path:
    home = tmp_path / "capmatch-home"
    for var in list(os.environ):
        # Tests start from the defaults: no LLM endpoint, no private URLs, the bundled model.
        if var.startswith(("CAPMATCH_", "OPENAI_")) and var != "CAPMATCH_SHARED_DATA":
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CAPMATCH_HOME", str(home))
    if backend == "postgres":
        monkeypatch.setenv("CAPMATCH_DATABASE_URL", request.getfixturevalue("pg_url"))
    return home


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return get_embedder()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPMATCH_ALLOW_PRIVATE_URLS", "1")


@pytest.fixture
def core(embedder: SentenceTransformerEmbedder) -> Runtime:
    return Runtime(get_settings(), embedder=embedder)


def demo_records() -> list[dict[str, object]]:
    return [json.loads(line) for line in (FIXTURES / "demo.jsonl").read_text().splitlines() if line.strip()]


def ingest_demo(core: Runtime) -> None:
    """The 15 fixture tools of fixtures/demo.jsonl, with their categories and metadata."""
    from capmatch.pipeline.ingest import Source

    for record in demo_records():
        core.ingest(
            Source(
                path=FIXTURES / str(record["file"]),
                name=str(record["name"]),
                category=str(record["category"]),
                metadata=dict(record.get("metadata") or {}),  # type: ignore[call-overload]
            ),
        )


# ---- a docs server with good and bad pages -------------------------------------------------------
CONTENT_TYPES = {
    ".md": "text/markdown",
    ".rst": "text/x-rst",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain",
}


class DocsHandler(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def log_message(self, *args: object) -> None:
        return None

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        DocsHandler.hits[path] = DocsHandler.hits.get(path, 0) + 1
        if path.startswith("/docs/"):
            file = FIXTURES / "docs" / path.removeprefix("/docs/")
            if file.is_file():
                return self._send(200, file.read_bytes(), CONTENT_TYPES[file.suffix])
            return self._send(404, b"not found", "text/plain")
        if path.startswith("/pages/"):
            file = PAGES / path.removeprefix("/pages/")
            if file.is_file():
                return self._send(200, file.read_bytes(), CONTENT_TYPES.get(file.suffix, "text/plain"))
            return self._send(404, b"not found", "text/plain")
        if path.startswith("/slow-pages/"):
            # A page that takes a moment, so a job's progress can be watched while it runs.
            time.sleep(1.5)
            file = PAGES / path.removeprefix("/slow-pages/")
            if file.is_file():
                return self._send(200, file.read_bytes(), CONTENT_TYPES.get(file.suffix, "text/plain"))
            return self._send(404, b"not found", "text/plain")
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._send(code, b"error page", "text/html")
        if path == "/loop":
            return self._send(302, b"", "text/plain", {"Location": "/loop"})
        if path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            target = f"/hop/{n - 1}" if n > 0 else "/docs/fetchwire.md"
            return self._send(302, b"", "text/plain", {"Location": target})
        if path == "/image.png":
            return self._send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
        if path == "/archive.zip":
            return self._send(200, b"PK\x03\x04" + b"\x00" * 64, "application/zip")
        if path == "/binary.txt":
            return self._send(200, b"\x00\x01\x02" * 100, "text/plain")
        if path == "/huge":
            return self._send(200, b"<p>" + b"a" * (6 * 1024 * 1024) + b"</p>", "text/html")
        if path == "/huge-chunked":
            # No Content-Length: the fetcher must stop reading at the cap by itself.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"a" * 65536
            try:
                for _ in range(100):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/empty":
            return self._send(200, b"<html><head><title>x</title></head><body></body></html>", "text/html")
        if path == "/slow":
            time.sleep(3)
            return self._send(200, b"# Slow\n\nToo late.", "text/markdown")
        if path.startswith("/slow-hop/"):
            n = int(path.rsplit("/", 1)[1])
            time.sleep(0.6)
            return self._send(302, b"", "text/plain", {"Location": f"/slow-hop/{n - 1}" if n else "/docs/pliant.rst"})
        return self._send(404, b"not found", "text/plain")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # clients hanging up on oversized pages is expected here


@pytest.fixture(scope="session")
def docs_server() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), DocsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# ---- the capmatch API on a real port ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    def __init__(self, settings: Settings, start_worker: bool = True) -> None:
        from capmatch.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(settings, start_worker=start_worker)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 90  # a busy 2-core machine loads the model slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the API server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 90) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


# ---- an OpenAI-compatible endpoint on loopback ------------------------------------------------------
@pytest.fixture(scope="session")
def llm_server() -> Iterator[LLMServer]:
    with LLMServer() as server:
        yield server


@pytest.fixture
def llm_env(llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch) -> LLMServer:
    """Point capmatch at the loopback endpoint, with fast backoff and a price for the test model."""
    llm_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("CAPMATCH_LLM_MODEL", "test-model")
    monkeypatch.setenv("CAPMATCH_EXTRACTOR", "llm")
    monkeypatch.setenv("CAPMATCH_LLM_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("CAPMATCH_LLM_PRICES", '{"test-model": [1.0, 2.0]}')
    return llm_server
