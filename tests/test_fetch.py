"""Fetching over real HTTP from a loopback server: formats, limits and every kind of bad response."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from capmatch.errors import (
    ContentTooLarge,
    FetchError,
    InvalidInput,
    PrivateAddressRefused,
    TooManyRedirects,
    UnsupportedContentType,
)
from capmatch.extractor.fetch import fetch, read_path
from capmatch.extractor.netguard import is_public
from capmatch.settings import get_settings

pytestmark = pytest.mark.usefixtures("allow_private")


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("/docs/fetchwire.md", "markdown"), ("/docs/pliant.rst", "rst"), ("/docs/pgtide.html", "html")],
)
def test_fetch_reads_each_format(docs_server: str, path: str, fmt: str) -> None:
    doc = fetch(docs_server + path, get_settings())
    assert doc.format == fmt
    assert doc.url == docs_server + path
    assert len(doc.text) > 500


def test_redirects_are_followed_up_to_the_limit(docs_server: str) -> None:
    doc = fetch(docs_server + "/hop/3", get_settings())
    assert doc.url.endswith("/docs/fetchwire.md")
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        fetch(docs_server + "/hop/6", get_settings())


def test_redirect_loop_fails_clearly(docs_server: str) -> None:
    with pytest.raises(TooManyRedirects, match=r"redirects \(loop\?\)"):
        fetch(docs_server + "/loop", get_settings())


@pytest.mark.parametrize("status", [404, 500])
def test_error_status_is_reported(docs_server: str, status: int) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(f"{docs_server}/status/{status}", get_settings())
    assert caught.value.status == status
    assert f"HTTP {status}" in caught.value.message


@pytest.mark.parametrize("path", ["/image.png", "/archive.zip"])
def test_non_text_content_is_refused(docs_server: str, path: str) -> None:
    with pytest.raises(UnsupportedContentType, match="is not a document capmatch reads"):
        fetch(docs_server + path, get_settings())


def test_binary_body_with_text_type_is_refused(docs_server: str) -> None:
    with pytest.raises(UnsupportedContentType, match="binary"):
        fetch(docs_server + "/binary.txt", get_settings())


@pytest.mark.parametrize("path", ["/huge", "/huge-chunked"])
def test_pages_over_the_size_cap_are_refused(docs_server: str, path: str) -> None:
    with pytest.raises(ContentTooLarge, match=r"5242880-byte cap"):
        fetch(docs_server + path, get_settings())


def test_unreachable_host_fails_clearly() -> None:
    with pytest.raises(FetchError, match=r"could not fetch http://127\.0\.0\.1:9/"):
        fetch("http://127.0.0.1:9/", get_settings())


def test_read_timeout(docs_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPMATCH_FETCH_READ_TIMEOUT", "0.5")
    with pytest.raises(FetchError, match="timed out"):
        fetch(docs_server + "/slow", get_settings())


def test_private_addresses_are_refused_unless_allowed(docs_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAPMATCH_ALLOW_PRIVATE_URLS")
    with pytest.raises(PrivateAddressRefused, match="CAPMATCH_ALLOW_PRIVATE_URLS=1"):
        fetch(docs_server + "/docs/fetchwire.md", get_settings())
    assert not is_public("10.0.0.1")
    assert not is_public("169.254.169.254")
    assert not is_public("::ffff:127.0.0.1")
    assert is_public("93.184.216.34")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        fetch(url, get_settings())


def test_local_files_are_read_by_extension(tmp_path: Path) -> None:
    doc = read_path(Path(__file__).parent / "pages" / "tiny.md", get_settings())
    assert doc.format == "markdown"
    assert doc.url.startswith("file://")
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF")
    with pytest.raises(UnsupportedContentType, match=r"use \.html, \.md, \.rst or \.txt"):
        read_path(bad, get_settings())
    with pytest.raises(InvalidInput, match="no such file"):
        read_path(tmp_path / "missing.md", get_settings())


def test_the_total_time_limit_covers_redirect_hops(docs_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPMATCH_FETCH_TOTAL_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(FetchError, match="CAPMATCH_FETCH_TOTAL_TIMEOUT"):
        fetch(docs_server + "/slow-hop/4", get_settings())  # 5 hops of 0.6 s each
    assert time.monotonic() - started < 2.5
