"""An httpx transport that retries and paces requests to the LLM endpoint.

The openai SDK's own retries are turned off so that this is the one place where a request is
repeated: after 429, 5xx, a timeout or a connection error, with exponential backoff and jitter,
never sooner than the server's Retry-After. A concurrency limit and a requests-per-minute limit
are shared by every job of the process. Each request is charged to the current meter.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable

import httpx

from llm import meter as metering

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
MAX_BACKOFF = 30.0


class RateLimiter:
    """At most ``per_minute`` request starts in any 60-second window (a sliding log)."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._starts: list[float] = []
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._starts = [t for t in self._starts if now - t < 60.0]
                if len(self._starts) < self.per_minute:
                    self._starts.append(now)
                    return
                wait = 60.0 - (now - self._starts[0])
            self._sleep(max(wait, 0.01))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait: Retry-After (seconds or HTTP date) or retry-after-ms."""
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def backoff(attempt: int, base: float = 0.5) -> float:
    """Exponential backoff with full jitter: a random wait in [0, base * 2^(attempt-1)]."""
    return random.uniform(0, min(MAX_BACKOFF, base * 2 ** (attempt - 1)))


class RetryingTransport(httpx.HTTPTransport):
    def __init__(
        self,
        retries: int,
        concurrency: int,
        limiter: RateLimiter,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.retries = retries
        self.backoff_base = backoff_base
        self._slots = threading.BoundedSemaphore(concurrency)
        self._limiter = limiter
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            meter = metering.current()
            if meter is not None:
                meter.check_budget()
                meter.record_request(retry=attempt > 1)
            self._limiter.acquire()
            started = time.monotonic()
            try:
                with self._slots:
                    response = super().handle_request(request)
            except (httpx.TimeoutException, httpx.NetworkError) as exc:
                if meter is not None:
                    meter.record_outcome(None, (time.monotonic() - started) * 1000, type(exc).__name__)
                if attempt == attempts:
                    raise
                self._sleep(backoff(attempt, self.backoff_base))
                continue
            if meter is not None:
                meter.record_outcome(response.status_code, (time.monotonic() - started) * 1000)
            if response.status_code not in RETRY_STATUSES or attempt == attempts:
                return response
            wait = max(backoff(attempt, self.backoff_base), retry_after(response) or 0.0)
            response.read()
            response.close()
            self._sleep(min(wait, 120.0))
        raise AssertionError("unreachable: the last attempt returns or raises")
