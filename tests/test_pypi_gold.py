"""`pypi:NAME==VERSION` gold pages: resolved against a loopback server standing in for PyPI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from capmatch.errors import InvalidInput
from capmatch.evaluation import pypi
from capmatch.evaluation.extract import load_gold
from capmatch.extractor.fetch import read_path
from capmatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README_MD = "# Widget\n\nWidget retries failed requests with exponential backoff.\n"
README_RST = "Gadget\n======\n\nGadget caches responses on disk.\n"


def release(name: str, version: str, description: str, content_type: str | None) -> dict:
    return {
        "info": {"name": name, "version": version, "description": description, "description_content_type": content_type}
    }


def wheel(name: str, version: str, description: str, content_type: str) -> bytes:
    """A wheel holding only its core metadata, the description as the body (metadata 2.1)."""
    metadata = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Description-Content-Type: {content_type}\n\n{description}"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
        archive.writestr(f"{name}/__init__.py", "")
    return buffer.getvalue()


OLD_README = "# Latest\n\nThe 1.5 release, read from its wheel.\n"
FILES = {"/files/latestonly-1.5-py3-none-any.whl": wheel("latestonly", "1.5", OLD_README, "text/markdown")}


class FakePyPI(BaseHTTPRequestHandler):
    """/NAME/VERSION/json for widget and gadget; `latestonly` answers only /latestonly/json, as some
    mirrors do."""

    releases: ClassVar[dict[str, dict]] = {
        "/widget/1.2.0/json": release("widget", "1.2.0", README_MD, "text/markdown; charset=UTF-8"),
        "/gadget/0.9/json": release("gadget", "0.9", README_RST, "text/x-rst"),
        "/plain/1.0/json": release("plain", "1.0", "Plain tool.\n", None),
        "/latestonly/json": {
            **release("latestonly", "2.0", "# Latest\n\nOnly the newest.\n", "text/markdown"),
            # An older release's files, with URLs relative to the listing, as pypi.org gives them.
            "releases": {
                "1.5": [
                    {"filename": "latestonly-1.5-py3-none-any.whl", "url": "../files/latestonly-1.5-py3-none-any.whl"}
                ]
            },
        },
    }
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        data = self.releases.get(self.path)
        body = json.dumps(data).encode() if data else FILES.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def fake_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePyPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cache = tmp_path / "cache"
    monkeypatch.setenv("CAPMATCH_PYPI_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("CAPMATCH_PYPI_CACHE", str(cache))
    FakePyPI.hits.clear()
    yield cache
    server.shutdown()
    server.server_close()


def test_the_release_readme_is_read_in_the_format_its_content_type_names(fake_pypi: Path) -> None:
    settings = Settings()
    md = read_path(pypi.page_path("pypi:widget==1.2.0"), settings)
    rst = read_path(pypi.page_path("pypi:gadget==0.9"), settings)
    plain = read_path(pypi.page_path("pypi:plain==1.0"), settings)
    assert (md.format, md.text) == ("markdown", README_MD)
    assert (rst.format, rst.text) == ("rst", README_RST)
    assert plain.format == "rst"  # no content type: PyPI renders it as reStructuredText
    assert (fake_pypi / "widget-1.2.0.json").is_file()


def test_a_cached_release_is_not_downloaded_again(fake_pypi: Path) -> None:
    first = pypi.page_path("pypi:widget==1.2.0")
    second = pypi.page_path("pypi:widget==1.2.0")
    assert first == second
    assert FakePyPI.hits == ["/widget/1.2.0/json"]


def test_the_newest_release_answers_only_for_its_own_version(fake_pypi: Path) -> None:
    assert pypi.page_path("pypi:latestonly==2.0").read_text(encoding="utf-8").startswith("# Latest")
    with pytest.raises(InvalidInput, match=r"no release latestonly==1\.0"):
        pypi.page_path("pypi:latestonly==1.0")


def test_unpinned_unknown_and_unreachable_releases_are_clear_errors(
    fake_pypi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidInput, match="exact version"):
        pypi.page_path("pypi:widget")
    with pytest.raises(InvalidInput, match=r"no release nosuch==1\.0"):
        pypi.page_path("pypi:nosuch==1.0")
    monkeypatch.setenv("CAPMATCH_PYPI_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(InvalidInput, match=r"cannot download .*need the network"):
        pypi.page_path("pypi:gadget==0.9")


def gold_file(tmp_path: Path, quote: str) -> Path:
    record = {
        "tool": "widget",
        "page": "pypi:widget==1.2.0",
        "category": "http-clients",
        "capabilities": [
            {
                "name": "Automatic request retries",
                "description": "Retries failed requests.",
                "quotes": [quote],
                "core": True,
            }
        ],
        "traps": [],
    }
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_eval_and_check_gold_accept_pypi_pages(fake_pypi: Path, tmp_path: Path) -> None:
    good = gold_file(tmp_path, "retries failed requests with exponential backoff")
    [page] = load_gold(good, Settings().shared_data)
    assert page.page == fake_pypi / "widget-1.2.0.md"
    check = [sys.executable, str(ROOT / "scripts" / "check_gold.py")]
    ok = subprocess.run([*check, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
    bad = gold_file(tmp_path, "retries nothing at all")
    failed = subprocess.run([*check, str(bad)], capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert "quote not in the page: 'retries nothing at all'" in failed.stdout


def test_an_older_release_on_a_newest_only_mirror_is_read_from_its_wheel(fake_pypi: Path) -> None:
    """A mirror that answers only /NAME/json still lists the older release's files: the README is the
    wheel's core metadata description, and it is cached like a JSON answer."""
    page = pypi.page_path("pypi:latestonly==1.5")
    assert page.name == "latestonly-1.5.md" and page.read_text(encoding="utf-8") == OLD_README
    assert "/files/latestonly-1.5-py3-none-any.whl" in FakePyPI.hits
    FakePyPI.hits.clear()
    assert pypi.page_path("pypi:latestonly==1.5") == page and FakePyPI.hits == []
