"""Hostile servers against the fetcher, on loopback: a stacked gzip bomb, response headers trickled a
byte at a time, charsets that are not charsets, and UTF-16/32 pages."""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from capmatch.errors import CapmatchError, ContentTooLarge, FetchError, UnsupportedContentType
from capmatch.extractor.fetch import fetch
from capmatch.settings import get_settings

from .conftest import QuietServer

pytestmark = pytest.mark.usefixtures("allow_private")

PAGE = "<html><body><h1>Charsetter</h1><p>Charsetter turns logs into weekly reports.</p></body></html>"


def gzip_of_zeros(mib: int) -> bytes:
    """A gzip member inflating to `mib` MiB of zeros, built from one repeated full-flush block (fast)."""
    obj = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    block = obj.compress(zeros) + obj.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    deflate = block * mib + obj.flush()
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + deflate + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def gzip(data: bytes) -> bytes:
    obj = zlib.compressobj(9, zlib.DEFLATED, 31)
    return obj.compress(data) + obj.flush()


BOMB = gzip(gzip_of_zeros(1024))  # ~4 KB on the wire, 1 GiB after two rounds of gunzip


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def _send(self, body: bytes, content_type: str, encoding: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/bomb":
            return self._send(BOMB, "text/html", "gzip, gzip")
        if path == "/single-bomb":
            return self._send(gzip_of_zeros(64), "text/html", "gzip")
        if path == "/gzip":
            return self._send(gzip(PAGE.encode()), "text/html", "gzip")
        if path.startswith("/charset/"):
            return self._send(PAGE.encode(), f"text/html; charset={path.rsplit('/', 1)[1]}")
        if path == "/meta-charset":
            return self._send(b'<meta charset="rot13">' + PAGE.encode(), "text/html")
        if path == "/utf16-bom":
            return self._send(("\ufeff" + PAGE).encode("utf-16-le"), "text/html")
        if path == "/utf16be-bom":
            return self._send(("\ufeff" + PAGE).encode("utf-16-be"), "text/html")
        if path == "/utf16-declared":
            return self._send(PAGE.encode("utf-16-le"), "text/html; charset=utf-16le")
        if path == "/utf32-bom":
            return self._send(PAGE.encode("utf-32"), "text/plain")
        return self._send(b"not found", "text/plain")


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def peak_rss_during(action: object) -> tuple[float, float, BaseException | None]:
    """Run action(); sample this process's resident memory every 5 ms meanwhile. (idle, peak, error)"""
    idle, peak, done = rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    error: BaseException | None = None
    try:
        action()  # type: ignore[operator]
    except BaseException as exc:
        error = exc
    done.set()
    sampler.join()
    return idle, max(peak[0], rss_mb()), error


def test_stacked_gzip_bomb_stays_within_memory(hostile: str) -> None:
    idle, peak, error = peak_rss_during(lambda: fetch(hostile + "/bomb", get_settings()))
    assert peak - idle < 300, f"resident memory rose from {idle:.0f} MB to {peak:.0f} MB"
    assert isinstance(error, (UnsupportedContentType, ContentTooLarge)), repr(error)


def test_single_gzip_bomb_is_cut_at_the_cap(hostile: str) -> None:
    idle, peak, error = peak_rss_during(lambda: fetch(hostile + "/single-bomb", get_settings()))
    assert peak - idle < 300
    assert isinstance(error, ContentTooLarge), repr(error)


def test_an_ordinary_gzip_page_is_read(hostile: str) -> None:
    assert "weekly reports" in fetch(hostile + "/gzip", get_settings()).text


def trickle_server(stop: threading.Event) -> tuple[str, threading.Thread]:
    """Answers every request with response headers sent one byte every 2 s (for at most 20 s)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                headers = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: " + b"a" * 1000
                started = time.monotonic()
                for byte in headers:
                    if stop.is_set() or time.monotonic() - started > 20:
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    stop.wait(2)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/", thread


def test_trickled_headers_end_at_the_total_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPMATCH_FETCH_TOTAL_TIMEOUT", "3")
    stop = threading.Event()
    url, thread = trickle_server(stop)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="CAPMATCH_FETCH_TOTAL_TIMEOUT"):
            fetch(url, get_settings())
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(5)
    assert elapsed < 3 + 2, f"the fetch took {elapsed:.1f}s with a 3s total deadline"


@pytest.mark.parametrize("charset", ["hex", "rot13", "zlib", "base64", "no-such-charset", "utf-8"])
def test_unknown_or_non_text_charsets_fall_back_to_utf8(hostile: str, charset: str) -> None:
    try:
        doc = fetch(f"{hostile}/charset/{charset}", get_settings())
    except CapmatchError as exc:  # pragma: no cover - shown on failure
        pytest.fail(f"refused: {exc}")
    assert "Charsetter turns logs into weekly reports." in doc.text


def test_a_meta_charset_that_is_not_a_charset_falls_back(hostile: str) -> None:
    assert "weekly reports" in fetch(hostile + "/meta-charset", get_settings()).text


@pytest.mark.parametrize("path", ["/utf16-bom", "/utf16be-bom", "/utf16-declared", "/utf32-bom"])
def test_utf16_and_utf32_pages_are_read(hostile: str, path: str) -> None:
    doc = fetch(hostile + path, get_settings())
    assert "Charsetter turns logs into weekly reports." in doc.text
    assert "\x00" not in doc.text and not doc.text.startswith("\ufeff")


def test_a_trickling_server_does_not_hold_the_worker(tmp_path: Path, docs_server: str) -> None:
    from capmatch.settings import Settings

    from .conftest import RunningServer, wait_for_job

    stop = threading.Event()
    url, thread = trickle_server(stop)
    settings = Settings(home=tmp_path / "home", allow_private_urls=True, fetch_total_timeout=3)
    try:
        with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            warm = client.post("/api/tools", json={"url": f"{docs_server}/docs/pliant.rst"}).json()["job_id"]
            assert wait_for_job(client, warm, timeout=120)["status"] == "done"  # the model is loaded
            started = time.monotonic()
            stuck = client.post("/api/tools", json={"url": url}).json()["job_id"]
            other = client.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"}).json()["job_id"]
            failed = wait_for_job(client, stuck, timeout=60)
            assert time.monotonic() - started < 3 + 5
            assert failed["status"] == "failed" and failed["error_code"] == "fetch_failed", failed
            assert "CAPMATCH_FETCH_TOTAL_TIMEOUT" in str(failed["error"])
            assert wait_for_job(client, other, timeout=60)["status"] == "done"
    finally:
        stop.set()
        thread.join(5)
