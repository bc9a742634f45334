"""Who may write: a bearer key on write endpoints (when CAPMATCH_API_KEY is set) and a per-client
limit on URL submissions. Reads stay public."""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections import deque
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from capmatch.errors import RateLimited, Unauthorized
from capmatch.storage.base import RateLimits

AUTH_HINT = "send the header `Authorization: Bearer <key>` with the server's CAPMATCH_API_KEY"


def key_matches(given: str | None, expected: str) -> bool:
    # compare_digest takes the same time wherever the strings differ: no guessing by timing.
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_key(request: Request, given: str | None) -> None:
    expected = request.app.state.core.settings.api_key
    if expected and not key_matches(given, expected):
        reason = "missing API key" if not given else "wrong API key"
        raise Unauthorized(f"{reason}: {AUTH_HINT}", headers={"WWW-Authenticate": 'Bearer realm="capmatch"'})


bearer = HTTPBearer(auto_error=False, description="The server's CAPMATCH_API_KEY, when it sets one.")


async def require_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Dependency for every write endpoint."""
    check_key(request, credentials.credentials if credentials else None)


class SubmissionLimiter:
    """A sliding window per client: at most ``per_minute`` submissions in any 60 s. With ``shared``
    (PostgreSQL) the window is counted in the database, once for every API replica; otherwise in
    this process."""

    def __init__(self, per_minute: int, window: float = 60.0, shared: RateLimits | None = None) -> None:
        self.per_minute = per_minute
        self.window = window
        self.shared = shared
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _refuse(self, wait: float) -> RateLimited:
        wait = math.ceil(wait)
        return RateLimited(
            f"more than {self.per_minute} submissions in a minute from this client; "
            f"try again in {wait} s (CAPMATCH_SUBMIT_RATE_PER_MINUTE)",
            headers={"Retry-After": str(max(1, wait))},
        )

    def check(self, client: str) -> None:
        if self.shared is not None:
            wait = self.shared.take(f"submit:{client}", self.per_minute, self.window)
            if wait is not None:
                raise self._refuse(wait)
            return
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # forget idle clients so the table cannot grow without end
                self._seen = {c: q for c, q in self._seen.items() if q and now - q[-1] < self.window}
            times = self._seen.setdefault(client, deque())
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.per_minute:
                raise self._refuse(self.window - (now - times[0]))
            times.append(now)


def client_of(request: Request) -> str:
    # Behind a reverse proxy every client shares the proxy's address: run one limit per proxy there.
    return request.client.host if request.client else "unknown"


def exposure_warning(host: str, api_key: str | None) -> str | None:
    """What `capmatch serve` says when it listens beyond this machine with writes open to all."""
    if api_key:
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    return (
        f"warning: serving on {host} without CAPMATCH_API_KEY: anyone who can reach this port can submit "
        "URLs, delete tools and re-index. Set CAPMATCH_API_KEY to a long random value."
    )
