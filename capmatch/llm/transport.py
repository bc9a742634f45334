"""An httpx transport that retries and paces requests to the LLM endpoint.

The openai SDK's own retries are turned off so that this is the one place where a request is
repeated: after 408/409/429, a 5xx (but 501), a timeout or a dropped connection — whether it
happens before the headers or while the body is read — with exponential backoff and full jitter,
never sooner than the server's Retry-After. A concurrency limit and a requests-per-minute limit are
shared by every job of the process. Each request is charged to the current meter, and the budget is
checked before it is sent.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable

import httpx

from capmatch.llm import meter as metering
from capmatch.llm.tokens import count_tokens

MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0  # a longer Retry-After fails the request with that reason instead of blocking


def retryable(status: int) -> bool:
    return status in (408, 409, 429) or (status >= 500 and status != 501)


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
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    return max(0.0, parsed.timestamp() - time.time())


def backoff(attempt: int, base: float = 0.5) -> float:
    """Exponential backoff with full jitter: a random wait in [0, base * 2^(attempt-1)]."""
    return random.uniform(0, min(MAX_BACKOFF, base * 2 ** (attempt - 1)))


def prompt_estimate(request: httpx.Request) -> int:
    try:
        return count_tokens(request.content.decode("utf-8", errors="replace"))
    except httpx.RequestNotRead:
        return 0


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
        meter = metering.current()
        upcoming = prompt_estimate(request) if meter is not None else 0
        for attempt in range(1, attempts + 1):
            if meter is not None:
                meter.check_budget(upcoming)
                meter.record_request(retry=attempt > 1)
                meter.last_prompt_estimate = upcoming
            started = time.monotonic()
            try:
                with self._slots:
                    # Paced once a slot is free, so queued requests do not all start at once.
                    self._limiter.acquire()
                    started = time.monotonic()
                    response = super().handle_request(request)
                    # The whole answer is read here, inside the slot and the retry loop: a stream
                    # cut or stalled half-way is retried like any other failure.
                    response.read()
            except httpx.TransportError as exc:
                if meter is not None:
                    meter.record_outcome(None, (time.monotonic() - started) * 1000, type(exc).__name__)
                if attempt == attempts:
                    raise
                self._sleep(backoff(attempt, self.backoff_base))
                continue
            if meter is not None:
                meter.record_outcome(response.status_code, (time.monotonic() - started) * 1000)
            if not retryable(response.status_code) or attempt == attempts:
                return response
            asked = retry_after(response)
            if asked is not None and asked > MAX_RETRY_AFTER:
                if meter is not None:
                    meter.note = (
                        f"the server asked to wait {asked:.0f}s (Retry-After), longer than capmatch waits "
                        f"({MAX_RETRY_AFTER:.0f}s); try again later"
                    )
                return response
            self._sleep(max(backoff(attempt, self.backoff_base), asked or 0.0))
        raise AssertionError("unreachable: the last attempt returns or raises")
