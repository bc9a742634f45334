"""The LLM client: the real openai SDK wrapped by instructor, over a retrying, rate-limited transport.

One transport (and so one concurrency limit and one requests-per-minute limit) is shared by every
job of the process. Failures come out as LLMError subclasses whose message says what happened:
status code, requests made, tokens spent.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, TypeVar

import httpx
import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorError, InstructorRetryException
from pydantic import BaseModel, ValidationError

from capmatch.errors import BudgetExceeded, LLMError, LLMNotConfigured, LLMOutputInvalid
from capmatch.llm import meter as metering
from capmatch.llm.tokens import count_tokens
from capmatch.llm.transport import RateLimiter, RetryingTransport
from capmatch.models import LLMUsage
from capmatch.settings import Settings

T = TypeVar("T", bound=BaseModel)

# json_schema: the answer is JSON content, its schema sent only as response_format
# {"type": "json_object", "schema": …}, which llama-cpp-python's server compiles into a grammar, so even
# a small local model answers in the right shape. (instructor's JSON_SCHEMA handler, whose OpenAI-style
# response_format that server rejects, is overridden through extra_body; unlike JSON mode it does not
# copy the schema into the system message: ~400 tokens a request the grammar makes unnecessary.)
MODES = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
}


def _verbatim(messages: list[dict[str, Any]], context: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Messages and validation context such that instructor sends every message unchanged.

    instructor renders each message as a Jinja template whenever a validation context is given, so a
    page containing ``{{ ... }}`` or ``{% ... %}`` (templating docs, Helm charts) would reach the
    model altered, and a quote copied from it would then not be found in the page. Each text is
    passed as a template variable instead: Jinja prints a variable's value as it is.
    """
    sent: list[dict[str, Any]] = []
    values = dict(context)
    for i, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, str):
            key = f"_capmatch_message_{i}"
            values[key] = content
            message = {**message, "content": "{{ " + key + " }}"}
        sent.append(message)
    return sent, values


class InvalidAnswer(Exception):
    """The answers kept failing validation; the last one is kept for a lenient reading."""

    def __init__(self, message: str, last_json: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.message = message
        self.last_json = last_json


_TRANSPORTS: dict[tuple[int, int, int, float], RetryingTransport] = {}
_CLIENTS: dict[tuple[object, ...], LLMClient] = {}
_LOCK = threading.Lock()


def _transport(settings: Settings) -> RetryingTransport:
    key = (
        settings.llm_http_retries,
        settings.llm_concurrency,
        settings.llm_requests_per_minute,
        settings.llm_backoff_base,
    )
    with _LOCK:
        if key not in _TRANSPORTS:
            _TRANSPORTS[key] = RetryingTransport(
                retries=settings.llm_http_retries,
                concurrency=settings.llm_concurrency,
                limiter=RateLimiter(settings.llm_requests_per_minute),
                backoff_base=settings.llm_backoff_base,
            )
        return _TRANSPORTS[key]


def get_client(settings: Settings) -> LLMClient:
    if not settings.llm_configured:
        raise LLMNotConfigured()
    key = (
        settings.openai_base_url,
        settings.openai_api_key,
        settings.llm_mode,
        settings.llm_timeout,
        settings.llm_http_retries,
        settings.llm_concurrency,
        settings.llm_requests_per_minute,
        settings.llm_backoff_base,
        settings.llm_reasks,
        settings.llm_max_output_tokens,
    )
    with _LOCK:
        client = _CLIENTS.get(key)
    if client is None:
        client = LLMClient(settings)
        with _LOCK:
            _CLIENTS.setdefault(key, client)
    return client


class LLMClient:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        http = httpx.Client(
            transport=_transport(settings),
            timeout=httpx.Timeout(settings.llm_timeout, connect=min(10.0, settings.llm_timeout)),
        )
        # max_retries=0: the transport is the one place that retries, so every attempt is counted.
        self.openai = openai.OpenAI(
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            max_retries=0,
            timeout=settings.llm_timeout,
            # openai types its client against its vendored httpx; the object is the same httpx.Client API.
            http_client=http,  # type: ignore[arg-type]
        )
        self.instructor = instructor.from_openai(self.openai, mode=MODES[settings.llm_mode])
        self.instructor.on("completion:response", _charge_tokens)
        self.instructor.on("parse:error", _count_rejected)

    def extract(
        self, response_model: type[T], messages: list[dict[str, Any]], context: dict[str, Any], model: str
    ) -> T:
        meter = metering.current()
        before = meter.snapshot() if meter else None
        extra: dict[str, Any] = {}
        if self.settings.llm_mode == "json_schema":
            # Sent as extra_body so it replaces the response_format instructor builds.
            schema = response_model.model_json_schema()
            extra["extra_body"] = {"response_format": {"type": "json_object", "schema": schema}}
        if self.settings.llm_max_output_tokens:
            extra["max_tokens"] = self.settings.llm_max_output_tokens
        sent, context = _verbatim(messages, context)
        try:
            return self.instructor.chat.completions.create(
                model=model,
                response_model=response_model,
                messages=sent,  # type: ignore[arg-type]
                max_retries=self.settings.llm_reasks,
                context=context,
                temperature=0,
                **extra,
            )
        except (InstructorError, openai.OpenAIError) as exc:
            raise self._translate(exc, before) from exc

    def _translate(self, exc: Exception, before: LLMUsage | None) -> Exception:
        budget = _find(exc, BudgetExceeded)
        if budget is not None:
            return budget
        meter = metering.current()
        tail = ""
        if meter is not None and before is not None:
            now = meter.snapshot()
            task = meter.task
            tail = (
                f" after {now.requests - before.requests} requests for this {task} answer "
                f"({now.retries - before.retries} retries, {now.reasks - before.reasks} re-asks); "
                f"{now.total_tokens} tokens spent on this tool so far"
            )
            if meter.note:
                tail += f"; {meter.note}"
        status = _find(exc, openai.APIStatusError)
        if status is not None:
            detail = _short(status.message)
            return LLMError(f"the LLM endpoint {self.base_url} answered HTTP {status.status_code}{tail}: {detail}")
        if _find(exc, openai.APITimeoutError) is not None:
            return LLMError(
                f"the LLM endpoint {self.base_url} did not answer within {self.settings.llm_timeout:g}s"
                f"{tail}; raise CAPMATCH_LLM_TIMEOUT for slow models"
            )
        if _find(exc, openai.APIConnectionError) is not None:
            if _find(exc, httpx.RemoteProtocolError) is not None or _find(exc, httpx.ReadError) is not None:
                return LLMError(f"the LLM endpoint {self.base_url} dropped the connection without an answer{tail}")
            return LLMError(f"could not connect to the LLM endpoint {self.base_url}{tail}; check OPENAI_BASE_URL")
        incomplete = _find(exc, IncompleteOutputException)
        if incomplete is not None:
            return LLMOutputInvalid(
                f"the model's answer was cut off at its output limit (finish_reason=length){tail}; "
                "lower CAPMATCH_LLM_CHUNK_TOKENS so each part asks for less"
            )
        if isinstance(exc, InstructorRetryException):
            validation = _find(exc, ValidationError)
            reason = _short(str(validation) if validation else str(exc))
            return InvalidAnswer(
                f"the model's answers failed validation {exc.n_attempts} times{tail}: {reason}",
                _last_json(exc),
            )
        return LLMError(f"the LLM call failed{tail}: {_short(str(exc))}")


def _charge_tokens(response: Any) -> None:
    meter = metering.current()
    if meter is None:
        return
    usage = getattr(response, "usage", None)
    if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
        # OpenAI (and servers copying its shape) report the prompt tokens read from the prefix cache.
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        meter.record_tokens(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0), cached)
        return
    # Some servers omit usage: count locally rather than record a free request.
    answer = ""
    try:
        message = response.choices[0].message
        answer = message.content or ""
        if getattr(message, "tool_calls", None):
            answer += "".join(c.function.arguments or "" for c in message.tool_calls)
    except (AttributeError, IndexError):
        pass
    meter.record_estimated_tokens(meter.last_prompt_estimate, count_tokens(answer))


def _count_rejected(*args: Any, **kwargs: Any) -> None:
    """A rejected answer leads to a re-ask unless it was the last attempt."""
    meter = metering.current()
    if meter is not None and not kwargs.get("is_last_attempt"):
        meter.record_reask()


def _find(exc: BaseException | None, kind: type[Any]) -> Any:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _last_json(exc: InstructorRetryException) -> dict[str, Any] | None:
    """The last answer's JSON, whichever mode produced it (tool call, JSON content, fenced JSON)."""
    completion = exc.last_completion
    try:
        message = completion.choices[0].message  # type: ignore[union-attr]
    except (AttributeError, IndexError):
        return None
    raw = None
    if getattr(message, "tool_calls", None):
        raw = message.tool_calls[0].function.arguments
    elif getattr(message, "content", None):
        content = message.content
        fenced = re.search(r"```(?:json)?\s*(.*?)```", content, re.S)
        raw = fenced.group(1) if fenced else content
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = ["InvalidAnswer", "LLMClient", "LLMOutputInvalid", "get_client"]
