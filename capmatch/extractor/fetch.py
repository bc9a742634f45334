"""Fetch a page (or read a local file) with hard limits; return raw text and its format."""

from __future__ import annotations

import codecs
import re
import ssl
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from capmatch.errors import (
    ContentTooLarge,
    FetchError,
    HostNotResolved,
    InvalidInput,
    TooManyRedirects,
    UnsupportedContentType,
)
from capmatch.extractor.netguard import AddressPolicy, PinnedBackend, RefusedConnection, check_public, policy_from
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


def _check(url: str, policy: AddressPolicy) -> None:
    """check_public, with a host that does not resolve reported against the whole URL."""
    try:
        check_public(url, policy)
    except HostNotResolved as exc:
        raise FetchError(url, exc.reason) from None


def fetch(url: str, settings: Settings) -> RawDocument:
    policy = policy_from(settings)
    _check(url, policy)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html, text/markdown, text/plain;q=0.9, */*;q=0.1",
        # Only what _Inflater decodes, with bounded output.
        "Accept-Encoding": "gzip, deflate",
    }
    current = url
    deadline = time.monotonic() + settings.fetch_total_timeout
    try:
        # trust_env=False: a proxy from the environment would connect on our behalf, unchecked.
        transport = httpx.HTTPTransport(trust_env=False)
        transport._pool = httpcore.ConnectionPool(  # connect only to the addresses the policy checked
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=_DeadlineBackend(policy, deadline)
        )
        with httpx.Client(headers=headers, follow_redirects=False, transport=transport, trust_env=False) as client:
            # Redirects are followed by hand so each hop passes the same address check.
            for _hop in range(settings.fetch_max_redirects + 1):
                with client.stream("GET", current, timeout=_hop_timeout(settings, deadline, current)) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        _check(current, policy)
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
            cause = exc.__cause__.cause
            if isinstance(cause, HostNotResolved):  # said of the whole URL, not of host:port
                raise FetchError(current, cause.reason) from None
            raise cause from None
        raise FetchError(current, f"{type(exc).__name__}: {exc}") from exc
    raise TooManyRedirects(url, f"more than {settings.fetch_max_redirects} redirects (loop?)")


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write is cut short at the fetch's one deadline, so a
    server trickling its headers (or body) a byte at a time cannot hold the fetch past it."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self.inner = inner
        self.deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the total fetch time is used up (CAPMATCH_FETCH_TOTAL_TIMEOUT)")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self.inner.start_tls(ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self.deadline)

    def get_extra_info(self, info: str) -> object:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(PinnedBackend):
    def __init__(self, policy: AddressPolicy, deadline: float) -> None:
        super().__init__(policy)
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the total fetch time is used up (CAPMATCH_FETCH_TOTAL_TIMEOUT)")
        timeout = left if timeout is None else min(timeout, left)
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self.deadline)


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


# Decompressed bytes may be at most this many times the compressed bytes once past 1 MB: real pages
# compress 3-20x; a bomb compresses 1000x.
MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024


class _Inflater:
    """Decodes one Content-Encoding (gzip or deflate) with bounded output: never more than the cap
    is produced, whatever the input, so a bomb costs at most the cap in memory."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: a gzip header; deflate: a zlib stream, or raw deflate from servers that get it wrong.
        self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self.first = True

    def feed(self, data: bytes, room: int) -> bytes:
        """Decompress `data`, returning at most `room` + 1 bytes (one over means: over the cap)."""
        if self.first and self.encoding == "deflate" and data:
            self.first = False
            try:
                return self._bounded(data, room)
            except zlib.error:
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._bounded(data, room)

    def _bounded(self, data: bytes, room: int) -> bytes:
        out = self.obj.decompress(data, room + 1)
        parts, size = [out], len(out)
        while self.obj.unconsumed_tail and size <= room:
            more = self.obj.decompress(self.obj.unconsumed_tail, room + 1 - size)
            if not more:
                break
            parts.append(more)
            size += len(more)
        return b"".join(parts)


def _inflater_for(url: str, header: str | None) -> _Inflater | None:
    codings = [c.strip().lower() for c in (header or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise UnsupportedContentType(
            url, f"stacked content encodings ({', '.join(codings)}) are refused: one of gzip or deflate is read"
        )
    if codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedContentType(url, f"content encoding {codings[0]!r} is not read (only gzip or deflate)")
    return _Inflater(codings[0])


def _read_capped(response: httpx.Response, url: str, cap: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise ContentTooLarge(url, f"the page is {declared} bytes, over the {cap}-byte cap")
    inflater = _inflater_for(url, response.headers.get("content-encoding"))
    chunks, total, raw = [], 0, 0
    # Raw bytes, decompressed here with bounded output: the cap holds for the bytes as they are
    # produced, not after a whole chunk has been inflated.
    for chunk in response.iter_raw():
        raw += len(chunk)
        if raw > cap:
            raise ContentTooLarge(url, f"the page is over the {cap}-byte cap")
        if inflater is not None:
            try:
                chunk = inflater.feed(chunk, cap - total)
            except zlib.error as exc:
                raise FetchError(url, f"the {inflater.encoding} content is corrupt ({exc})") from None
        total += len(chunk)
        if total > cap:
            # Stop reading: never hold more than the cap in memory.
            raise ContentTooLarge(url, f"the page is over the {cap}-byte cap")
        if total > _RATIO_FLOOR and total > MAX_RATIO * raw:
            raise ContentTooLarge(
                url, f"the page inflates more than {MAX_RATIO}x from its compressed size (a decompression bomb?)"
            )
        if time.monotonic() > deadline:
            raise FetchError(url, "the download took longer than the total time allowed (CAPMATCH_FETCH_TOTAL_TIMEOUT)")
        chunks.append(chunk)
    return b"".join(chunks)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _text_codec(name: str | None) -> str | None:
    """The codec for a declared charset, or None when Python has no *text* codec by that name
    (``hex``, ``rot13`` and ``zlib`` are bytes or str transforms, not charsets)."""
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _decode(body: bytes, content_type: str | None, fmt: str) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            # A byte order mark says the encoding more surely than any declaration.
            return body.decode(codec, errors="replace")
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";", 1)[0].strip().strip('"')
    if charset is None and fmt == "html":
        match = _META_CHARSET.search(body[:4096])
        charset = match.group(1).decode("ascii") if match else None
    return body.decode(_text_codec(charset) or "utf-8", errors="replace")


def _refuse_binary(url: str, text: str) -> None:
    sample = text[:4096]
    if "\x00" in sample or (sample and sample.count("\ufffd") / len(sample) > 0.1):
        raise UnsupportedContentType(url, "the content is binary, not a text document")
