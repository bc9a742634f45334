"""Usage accounting: every request, retry and re-ask, per job and per tool, with a token budget.

The meter for the work in progress is found through a context variable, so the HTTP transport and
instructor's hooks, which are shared by the whole process, charge the right job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from capmatch.errors import BudgetExceeded
from capmatch.models import LLMUsage


@dataclass
class CallRecord:
    """One HTTP request to the endpoint: what it was for, how it ended, what it cost."""

    task: str
    status: int | None
    duration_ms: float
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class UsageMeter:
    def __init__(self, budget: int | None = None, price: tuple[float, float] | None = None) -> None:
        self.budget = budget
        self.price = price
        self.usage = LLMUsage()
        self.calls: list[CallRecord] = []
        self.task = "unknown"  # set by the backend before each request
        self.model: str | None = None
        self.content_hash: str | None = None
        self.note: str | None = None  # something the endpoint asked that capmatch would not do
        self.last_prompt_estimate = 0
        self._lock = threading.Lock()

    def record_outcome(self, status: int | None, duration_ms: float, error: str | None = None) -> None:
        with self._lock:
            self.calls.append(CallRecord(self.task, status, round(duration_ms, 1), error))

    def record_request(self, retry: bool) -> None:
        with self._lock:
            self.usage.requests += 1
            if retry:
                self.usage.retries += 1

    def record_tokens(self, prompt: int, completion: int, cached: int = 0) -> None:
        with self._lock:
            self.usage.prompt_tokens += prompt
            self.usage.prompt_cached_tokens += cached
            self.usage.completion_tokens += completion
            self.usage.cost_usd = self.cost(self.usage.prompt_tokens, self.usage.completion_tokens)
            if self.calls:  # the answer to the last request sent
                self.calls[-1].prompt_tokens += prompt
                self.calls[-1].completion_tokens += completion

    def record_reask(self) -> None:
        with self._lock:
            self.usage.reasks += 1

    def record_cached(self, prompt: int, completion: int) -> None:
        """A cached answer: no request now, but its tokens were spent for this content once."""
        with self._lock:
            self.usage.cached += 1
            self.usage.cached_tokens += prompt + completion

    def record_estimated_tokens(self, prompt: int, completion: int) -> None:
        """The endpoint reported no usage: count locally, and say so."""
        self.record_tokens(prompt, completion)
        with self._lock:
            self.usage.estimated = True

    def cost(self, prompt: int, completion: int) -> float | None:
        if self.price is None:
            return None
        return round(prompt / 1e6 * self.price[0] + completion / 1e6 * self.price[1], 6)

    def check_budget(self, upcoming: int = 0) -> None:
        """Called before every request with the request's own (estimated) prompt tokens: stop before
        a request that would take the tool past its budget."""
        if self.budget is not None and self.usage.total_tokens + upcoming > self.budget:
            raise BudgetExceeded(
                f"token budget of {self.budget} per tool used up: {self.usage.total_tokens} tokens spent in "
                f"{self.usage.requests} requests and the next request needs about {upcoming} more. Answers "
                "verified so far are cached; raise CAPMATCH_LLM_MAX_TOKENS_PER_TOOL and run again to continue"
            )

    def snapshot(self) -> LLMUsage:
        with self._lock:
            return self.usage.model_copy()


_current: ContextVar[UsageMeter | None] = ContextVar("capmatch_llm_meter", default=None)


def current() -> UsageMeter | None:
    return _current.get()


@contextmanager
def metering(meter: UsageMeter) -> Iterator[UsageMeter]:
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)
