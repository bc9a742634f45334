"""Every error a user can see, each carrying what they need to fix it.

CapmatchError                      base: code, http_status, message with the fix
├── InvalidInput                   400  bad URL, path, record or parameter
│   └── PrivateAddressRefused      400  URL resolves to a loopback/private address
├── FetchError                     502  the page could not be fetched (status, reason)
│   ├── HostNotResolved            502  the host name has no address (same code at submission and fetch)
│   ├── TooManyRedirects           502
│   ├── UnsupportedContentType     415
│   └── ContentTooLarge            413
├── EmptyDocument                  422  nothing readable left after cleaning
├── NoCapabilities                 422  no capability-bearing text found
├── PageTooComplex                 422  over a stage's size budget (elements, lines, blocks)
├── NotFound                       404  unknown tool or job id
├── LeaseLost                      409  a worker's lease on its job expired; another worker owns it now
├── IndexMismatch                  500  the saved index was built with another model/dimension
├── SchemaBehind                   503  the PostgreSQL schema lacks migrations: run `capmatch db migrate`
└── LLMError                       502  the LLM endpoint failed (status, attempts, tokens spent)
    ├── LLMNotConfigured           400  --extractor llm without OPENAI_API_KEY / OPENAI_BASE_URL
    ├── LLMOutputInvalid           502  answers kept failing validation after the re-asks
    └── BudgetExceeded             402  the per-tool token budget ran out
"""

from __future__ import annotations


class CapmatchError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class InvalidInput(CapmatchError):
    code = "invalid_input"
    http_status = 400


class PrivateAddressRefused(InvalidInput):
    code = "private_address"

    def __init__(self, url: str, address: str) -> None:
        super().__init__(
            f"refused to fetch {url}: it resolves to {address}, a loopback/private/link-local address. "
            "Set CAPMATCH_ALLOW_PRIVATE_URLS=1 to allow local addresses (local use and tests only)."
        )
        self.url = url
        self.address = address


class FetchError(CapmatchError):
    code = "fetch_failed"
    http_status = 502

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        prefix = f"HTTP {status} from {url}" if status else f"could not fetch {url}"
        super().__init__(f"{prefix}: {reason}")
        self.url = url
        self.status = status
        self.reason = reason


class HostNotResolved(FetchError):
    """The URL's host name has no address (a typo, a private DNS name, no network)."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(host, f"cannot resolve host {host!r}: {detail}")
        self.host = host


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class UnsupportedContentType(FetchError):
    code = "unsupported_content_type"
    http_status = 415


class ContentTooLarge(FetchError):
    code = "content_too_large"
    http_status = 413


class EmptyDocument(CapmatchError):
    code = "empty_document"
    http_status = 422


class NoCapabilities(CapmatchError):
    code = "no_capabilities"
    http_status = 422


class PageTooComplex(CapmatchError):
    code = "page_too_complex"
    http_status = 422


class Unauthorized(CapmatchError):
    code = "unauthorized"
    http_status = 401


class RateLimited(CapmatchError):
    code = "rate_limited"
    http_status = 429


class NotFound(CapmatchError):
    code = "not_found"
    http_status = 404


class LeaseLost(CapmatchError):
    code = "lease_lost"
    http_status = 409


class SchemaBehind(CapmatchError):
    code = "schema_behind"
    http_status = 503


class IndexMismatch(CapmatchError):
    code = "index_mismatch"
    http_status = 500


class LLMError(CapmatchError):
    code = "llm_failed"
    http_status = 502


class LLMNotConfigured(LLMError):
    code = "llm_not_configured"
    http_status = 400

    def __init__(self) -> None:
        super().__init__(
            "no LLM endpoint is configured: set OPENAI_API_KEY (OpenAI, OpenRouter) and/or OPENAI_BASE_URL "
            "(vLLM, Ollama, llama.cpp server), and CAPMATCH_LLM_MODEL; or use --extractor extractive"
        )


class LLMOutputInvalid(LLMError):
    code = "llm_output_invalid"


class BudgetExceeded(LLMError):
    code = "llm_budget_exceeded"
    http_status = 402
