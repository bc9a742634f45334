"""Fetch a page (or read a local file) with hard limits; return raw text and its format."""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from capmatch.errors import (
    ContentTooLarge,
    FetchError,
    InvalidInput,
    TooManyRedirects,
    UnsupportedContentType,
)
from capmatch.extractor.netguard import PinnedBackend, RefusedConnection, check_public, policy_from
from capmatch.settings import Settings

USER_AGENT = "capmatch/0.1 (+https://github.com/capmatch; capability extraction)"

# content type -> document format understood by extractor.clean
CONTENT_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/x-rst": "rst",
    "text/prs.fallenstein.rst": "rst",
    "text/plain": "text",
}
EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
}
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class RawDocument:
    url: str
    text: str
    format: str
    fetched_at: datetime
    content_type: str | None = None


def fetch(url: str, settings: Settings) -> RawDocument:
    policy = policy_from(settings)
    check_public(url, policy)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, text/markdown, text/plain;q=0.9, */*;q=0.1"}
    current = url
    deadline = time.monotonic() + settings.fetch_total_timeout
    try:
        # trust_env=False: a proxy from the environment would connect on our behalf, unchecked.
        transport = httpx.HTTPTransport(trust_env=False)
        transport._pool = httpcore.ConnectionPool(  # connect only to the addresses the policy checked
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=PinnedBackend(policy)
        )
        with httpx.Client(headers=headers, follow_redirects=False, transport=transport, trust_env=False) as client:
            # Redirects are followed by hand so each hop passes the same address check.
            for _hop in range(settings.fetch_max_redirects + 1):
                with client.stream("GET", current, timeout=_hop_timeout(settings, deadline, current)) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        check_public(current, policy)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(current, response.reason_phrase or "error response", response.status_code)
                    fmt = _format_of(current, response.headers.get("content-type"))
                    body = _read_capped(response, current, settings.fetch_max_bytes, deadline)
                    text = _decode(body, response.headers.get("content-type"), fmt)
                    _refuse_binary(current, text)
                    return RawDocument(current, text, fmt, datetime.now(UTC), response.headers.get("content-type"))
    except httpx.TimeoutException as exc:
        if time.monotonic() >= deadline - 0.05:
            reason = f"gave up after {settings.fetch_total_timeout:g}s in total (CAPMATCH_FETCH_TOTAL_TIMEOUT)"
        else:
            reason = f"timed out ({type(exc).__name__}); the server did not answer in time"
        raise FetchError(current, reason) from exc
    except httpx.HTTPError as exc:
        if isinstance(exc.__cause__, RefusedConnection):
            raise exc.__cause__.cause from None
        raise FetchError(current, f"{type(exc).__name__}: {exc}") from exc
    raise TooManyRedirects(url, f"more than {settings.fetch_max_redirects} redirects (loop?)")


def _hop_timeout(settings: Settings, deadline: float, url: str) -> httpx.Timeout:
    """Each request gets what is left of the total time, so redirects and slow headers count too."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(
            url, f"gave up after {settings.fetch_total_timeout:g}s in total (CAPMATCH_FETCH_TOTAL_TIMEOUT)"
        )
    connect = min(settings.fetch_connect_timeout, left)
    read = min(settings.fetch_read_timeout, left)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def read_path(path: Path, settings: Settings) -> RawDocument:
    """The CLI may read local files; the API never calls this."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    size = path.stat().st_size
    if size > settings.fetch_max_bytes:
        raise ContentTooLarge(str(path), f"{size} bytes is over the {settings.fetch_max_bytes}-byte cap")
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedContentType(str(path), f"unsupported file type {path.suffix!r}: use .html, .md, .rst or .txt")
    text = path.read_bytes().decode("utf-8", errors="replace")
    _refuse_binary(str(path), text)
    return RawDocument(path.resolve().as_uri(), text, fmt, datetime.now(UTC))


def _format_of(url: str, content_type: str | None) -> str:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    suffix = Path(urlsplit(url).path).suffix.lower()
    if mime in ("", "application/octet-stream", "text/plain") and suffix in EXTENSIONS:
        # Raw file hosts serve READMEs as text/plain; the extension says what they really are.
        return EXTENSIONS[suffix]
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    raise UnsupportedContentType(
        url,
        f"content type {mime or 'missing'!r} is not a document capmatch reads "
        "(HTML, Markdown, reStructuredText or plain text)",
    )


def _read_capped(response: httpx.Response, url: str, cap: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise ContentTooLarge(url, f"the page is {declared} bytes, over the {cap}-byte cap")
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > cap:
            # Stop reading: never hold more than the cap in memory.
            raise ContentTooLarge(url, f"the page is over the {cap}-byte cap")
        if time.monotonic() > deadline:
            raise FetchError(url, "the download took longer than the total time allowed (CAPMATCH_FETCH_TOTAL_TIMEOUT)")
        chunks.append(chunk)
    return b"".join(chunks)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def _decode(body: bytes, content_type: str | None, fmt: str) -> str:
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";", 1)[0].strip().strip('"')
    if charset is None and fmt == "html":
        match = _META_CHARSET.search(body[:4096])
        charset = match.group(1).decode("ascii") if match else None
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        charset = None
    return body.decode(charset or "utf-8", errors="replace")


def _refuse_binary(url: str, text: str) -> None:
    sample = text[:4096]
    if "\x00" in sample or (sample and sample.count("\ufffd") / len(sample) > 0.1):
        raise UnsupportedContentType(url, "the content is binary, not a text document")
