"""Domain models: what a tool, a capability and a job are, independent of storage and API."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from capmatch.errors import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


class ToolType(StrEnum):
    MODEL = "Model"
    DATASET = "Dataset"
    LIBRARY = "Library"
    FRAMEWORK = "Framework"
    API_SERVICE = "API service"
    APPLICATION = "Application"
    UNKNOWN = "Unknown"


class Pricing(StrEnum):
    FREE = "Free"
    FREEMIUM = "Freemium"
    PAID = "Paid"
    UNKNOWN = "Unknown"


class Price(BaseModel):
    amount: float = Field(description="Lowest non-zero price stated on the page.")
    currency: str = "USD"
    unit: str = Field(description="What the amount buys, e.g. 'per month', 'per 1M tokens'.")
    quote: str = Field(description="The source text the price was read from.")

    def label(self) -> str:
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(self.currency, self.currency + " ")
        amount = f"{self.amount:g}"
        return f"{symbol}{amount} {self.unit}".strip()


class Inference(BaseModel):
    """A value inferred by a transparent rule, with the rule and the text that triggered it."""

    value: str
    rule: str
    quote: str | None = None


class Evidence(BaseModel):
    quote: str = Field(description="Exact text of the stored source snapshot.")
    start: int = Field(ge=0, description="Character offset of the quote in the source snapshot.")
    end: int = Field(ge=0)


class Alternative(BaseModel):
    tool_id: str
    tool_name: str
    capability_id: int
    capability_name: str
    similarity: float


class Capability(BaseModel):
    id: int | None = None
    name: str
    description: str
    unique: str = ""
    vs_alternatives: str = ""
    alternatives: list[Alternative] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    grounded: bool = False
    prompt_version: str | None = Field(None, description="Prompt version that produced it (LLM backend)")
    contrast_by: str = Field("rules", description="Who wrote Unique / vs alternatives: rules or llm:<version>:<model>")
    contrast_basis: dict[str, Any] = Field(
        default_factory=dict, description="The attributes each rules-written claim states and the quotes it rests on"
    )


class LLMUsage(BaseModel):
    """Every request to the LLM endpoint, retries and re-asks included."""

    requests: int = Field(0, description="HTTP requests sent, retries included")
    retries: int = Field(0, description="Requests repeated after a 429, 5xx, timeout or connection error")
    reasks: int = Field(0, description="Answers rejected by validation and asked again (re-ask requests)")
    cached: int = Field(0, description="Answers served from the cache (no request)")
    cached_tokens: int = Field(0, description="Tokens the cached answers cost when they were first asked")
    prompt_tokens: int = 0
    prompt_cached_tokens: int = Field(
        0, description="Of prompt_tokens, those the endpoint read from its prefix cache (when it reports them)"
    )
    completion_tokens: int = 0
    estimated: bool = Field(False, description="Some token counts were estimated locally: the endpoint gave none")
    cost_usd: float | None = Field(None, description="Estimate from the price table; null when the model is unpriced")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Tool(BaseModel):
    id: str
    name: str
    url: str
    type: ToolType = ToolType.UNKNOWN
    type_basis: Inference | None = None
    pricing: Pricing = Pricing.UNKNOWN
    pricing_basis: Inference | None = None
    starting_price: Price | None = None
    license: str | None = None
    summary: str = ""
    category: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    content_hash: str
    source_format: str
    fetched_at: datetime
    extractor: str
    extractor_version: str
    times_matched: int = 0
    usage: LLMUsage | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    capabilities: list[Capability] = Field(default_factory=list)

    @property
    def grounding_rate(self) -> float:
        if not self.capabilities:
            return 0.0
        return sum(c.grounded for c in self.capabilities) / len(self.capabilities)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobOutcome(StrEnum):
    """What a finished job did to the catalog."""

    CREATED = "created"
    REPLACED = "replaced"  # the same URL's earlier content was replaced
    UNCHANGED = "unchanged"  # the content was already in the catalog: nothing changed


class Stage(StrEnum):
    QUEUED = "queued"
    FETCHING = "fetching"
    CLEANING = "cleaning"
    SEGMENTING = "segmenting"
    EXTRACTING = "extracting"
    VERIFYING = "verifying"
    EMBEDDING = "embedding"
    INDEXING = "indexing"
    CONTRASTING = "contrasting"
    STORING = "storing"
    DONE = "done"


# The one progress table: where each step starts on a job's 0..1 progress, written by the pipeline
# (capmatch.pipeline) and drawn by the job page (capmatch.web.progress). "updating" is the part of
# storing that rewrites other tools' contrast lines.
STEP_STARTS: dict[str, float] = {
    "fetching": 0.02,
    "cleaning": 0.15,
    "segmenting": 0.25,
    "extracting": 0.35,
    "verifying": 0.55,
    "embedding": 0.65,
    "contrasting": 0.72,
    "indexing": 0.8,
    "updating": 0.88,
    "storing": 0.95,
}


class Job(BaseModel):
    id: str
    source: str
    name: str | None = None
    extractor: str
    status: JobStatus = JobStatus.QUEUED
    stage: Stage = Stage.QUEUED
    progress: float = 0.0
    tool_id: str | None = None
    error: str | None = None
    error_code: str | None = None
    attempts: int = 0
    backend: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    notice: str | None = None
    usage: LLMUsage | None = None
    worker: str | None = Field(None, description="The worker holding (or that last held) the job's lease")
    outcome: JobOutcome | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


def parse_type(value: str | None) -> str | None:
    if value is None:
        return None
    for member in ToolType:
        if member.value.lower() == value.strip().lower():
            return member.value
    raise InvalidInput(f"unknown type {value!r}: use one of {', '.join(t.value for t in ToolType)}")


def parse_pricing(value: str | None) -> str | None:
    if value is None:
        return None
    for member in Pricing:
        if member.value.lower() == value.strip().lower():
            return member.value
    raise InvalidInput(f"unknown pricing {value!r}: use one of {', '.join(p.value for p in Pricing)}")
