"""Security headers on every response. Pages carry no inline script and load nothing from
elsewhere, so a strict Content-Security-Policy costs nothing and stops injected markup from running
even if escaping ever failed. (Swagger UI under /docs loads its own assets and is left alone.)"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
NOT_OURS = ("/docs", "/redoc")


class SecurityHeaders:
    """Pure ASGI, not BaseHTTPMiddleware: it adds no task or buffering per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html") and not path.startswith(NOT_OURS):
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, with_headers)
