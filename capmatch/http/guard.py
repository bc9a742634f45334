"""Request guard (pure ASGI), in front of every route:

- **Host**: only the names in ``CAPMATCH_ALLOWED_HOSTS`` are served (loopback names by default when
  the server is bound to loopback), so a DNS-rebinding page cannot drive the local UI: 400.
- **Body size**: bodies over ``CAPMATCH_MAX_BODY_BYTES`` are refused (413) before they are read
  into memory; a chunked body is counted as it arrives.
- **Cross-site writes**: a POST, PUT, PATCH or DELETE whose ``Origin`` (else ``Referer``) is not this
  server is refused (403). Browsers always send one of them on a cross-site form POST.
- **Form token**: ``POST /submit`` without an API key needs the token the submit page puts in its
  form (an HMAC of a time stamp, per process), in case a browser sent neither header: 403.
- **Database locked**: a request that could not get the database (another process holds the write
  lock past the busy timeout) is answered 503 with ``Retry-After``, not 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capmatch.settings import Settings
from capmatch.storage.backends import database_busy

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_FIELD = "form_token"
TOKEN_TTL = 12 * 3600
RETRY_AFTER = "5"
_SECRET = secrets.token_bytes(32)


def form_token(now: float | None = None) -> str:
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()}"


def token_ok(token: str) -> bool:
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit() or not mac:
        return False
    expected = hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, expected) and 0 <= time.time() - int(stamp) <= TOKEN_TTL


def allowed_hosts(settings: Settings) -> set[str] | None:
    """The Host names served; None means any."""
    configured = {h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()}
    if "*" in configured:
        return None
    if configured:
        return configured
    bound = settings.host.strip("[]").lower()
    if bound in LOOPBACK or bound.startswith("127."):
        return LOOPBACK | {bound}
    return None


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _TooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = allowed_hosts(settings)
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            await _error(
                send, 400, "invalid_host", f"this server does not answer for host {host!r} (CAPMATCH_ALLOWED_HOSTS)"
            )
            return
        method = scope["method"]
        if method in UNSAFE and not self._same_origin(headers, host):
            await _error(
                send, 403, "cross_origin", "cross-site writes are refused: submit from this server's own pages"
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _error(send, 413, "body_too_large", f"the request body is over {self.max_body} bytes")
            return
        if method in UNSAFE:
            try:
                body = await self._read_body(receive)
            except _TooLarge:
                await _error(send, 413, "body_too_large", f"the request body is over {self.max_body} bytes")
                return
            page_write = scope["path"] == "/submit" and method == "POST" and not self.settings.api_key
            if page_write and not self._form_token_ok(headers, body):
                await _error(
                    send, 403, "form_token", "the form has expired or did not come from this server: reload it"
                )
                return
            receive = _replay(body, receive)
        await self._call(scope, receive, send)

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started or not database_busy(exc):
                raise
            await _error(
                send,
                503,
                "database_busy",
                "the catalog is busy (another process is writing): try again shortly",
                {"retry-after": RETRY_AFTER},
            )

    def _same_origin(self, headers: dict[str, str], host: str) -> bool:
        origin = headers.get("origin") or headers.get("referer")
        if origin is None:
            return True  # not a browser (curl, scripts): nothing to forge on anyone's behalf
        if origin == "null":
            return False
        return urlsplit(origin).netloc.lower() == host.lower()

    async def _read_body(self, receive: Receive) -> bytes:
        parts, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            parts.append(chunk)
            more = message.get("more_body", False)
        return b"".join(parts)

    def _form_token_ok(self, headers: dict[str, str], body: bytes) -> bool:
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return False  # the page's form posts urlencoded; anything else did not come from it
        values = parse_qs(body.decode("utf-8", "replace")).get(TOKEN_FIELD, [])
        return bool(values) and token_ok(values[0])


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _error(send: Send, status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
