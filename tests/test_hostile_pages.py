"""Hostile vendor pages through the API: each job ends done or failed with a clear reason (never an
internal error), nothing hangs, and the server keeps answering."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from capmatch.settings import Settings

from .conftest import RunningServer, wait_for_job

FEATURES = (
    "<h2>Features</h2><ul><li>Exports every report to PDF and CSV in one click.</li>"
    "<li>Schedules recurring exports for each team every night.</li>"
    "<li>Keeps an audit log of who exported which report and when.</li></ul>"
)

PAGES: dict[str, tuple[bytes, str]] = {
    "huge-line": (
        ("<html><body><h1>Longline</h1><p>" + "Longline exports reports quickly. " * 12_000 + "</p>" + FEATURES)
        .replace("\n", "")
        .encode(),
        "text/html; charset=utf-8",
    ),
    "deep-nesting": (
        ("<html><body>" + "<div>" * 5000 + "<h1>Deepdoc</h1>" + FEATURES + "</div>" * 5000 + "</body></html>").encode(),
        "text/html; charset=utf-8",
    ),
    "invalid-utf8": (
        b"<html><body><h1>Badbytes \xff\xfe</h1><p>Badbytes turns \xc3\x28 logs into reports.</p>"
        + FEATURES.encode()
        + b"\x80\x81</body></html>",
        "text/html; charset=utf-8",
    ),
    "zero-width": (
        (
            "<html><body><h1>Zw\u200bsp\u200cace</h1>" + FEATURES.replace(" ", " \u200b\u2060\ufeff") + "</body></html>"
        ).encode(),
        "text/html; charset=utf-8",
    ),
    "scripts": (
        (
            "<html><head><script>window.location='http://evil.example/'</script>"
            "<style>body{display:none}</style></head><body><h1>Scripted</h1>"
            "<script>document.write('<h2>Injected feature</h2>')</script>" + FEATURES + "</body></html>"
        ).encode(),
        "text/html; charset=utf-8",
    ),
    "markdown-html-mix": (
        (
            '# Mixdown\n\n<div onclick="alert(1)">\n\n' + "- Exports every report to PDF and CSV.\n" * 3 + "</div>\n"
        ).encode(),
        "text/markdown",
    ),
    "nul-bytes": (b"<html><body><h1>Nul</h1>" + b"\x00" * 50 + FEATURES.encode() + b"</body></html>", "text/html"),
}


class Hostile(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        body, content_type = PAGES.get(self.path.strip("/"), (b"not found", "text/plain"))
        self.send_response(200 if self.path.strip("/") in PAGES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hostile_pages_end_with_a_clear_outcome(tmp_path: Path, hostile_server: str) -> None:
    settings = Settings(home=tmp_path / "home", allow_private_urls=True)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        jobs = {
            name: client.post("/api/tools", json={"url": f"{hostile_server}/{name}"}).json()["job_id"] for name in PAGES
        }
        outcomes = {name: wait_for_job(client, job_id, timeout=180) for name, job_id in jobs.items()}
        for name, job in outcomes.items():
            assert job["status"] in ("done", "failed"), (name, job)
            if job["status"] == "failed":
                assert job["error_code"] != "internal_error" and job["error"], (name, job)
            else:
                tool = client.get(f"/api/tools/{job['tool_id']}").json()
                text = " ".join(c["name"] + " " + c["description"] for c in tool["capabilities"])
                assert "\u200b" not in text and "\x00" not in text, name
                assert "window.location" not in text and "Injected feature" not in text, name
                for cap in tool["capabilities"]:
                    source = client.get(f"/api/tools/{job['tool_id']}/source").text
                    for ev in cap["evidence"]:
                        assert source[ev["start"] : ev["end"]] == ev["quote"], name
        # The ordinary pages among them become tools; the server is still healthy.
        assert sum(j["status"] == "done" for j in outcomes.values()) >= 5, outcomes
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/?q=export+reports").status_code == 200
