"""What the API accepts and returns; separate from the domain models so either can change alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, HttpUrl

from capmatch.matching.compare import RankPublic
from capmatch.matching.rank import Rank
from capmatch.models import Capability, Inference, Job, JobOutcome, LLMUsage, Price, Tool


class SubmitRequest(BaseModel):
    url: HttpUrl = Field(description="The tool's page: vendor docs, README, model card, product page.")
    name: str | None = Field(None, max_length=200, description="Tool name; read from the page when omitted.")
    extractor: str | None = Field(
        None, max_length=40, description="auto, llm or extractive; default CAPMATCH_EXTRACTOR (auto)"
    )

    model_config = {"json_schema_extra": {"examples": [{"url": "https://example.com/docs/tool"}]}}


class JobPublic(BaseModel):
    job_id: str
    status: str = Field(description="queued, running, done or failed")
    stage: str
    progress: float = Field(ge=0, le=1)
    source: str
    extractor: str
    tool_id: str | None = Field(None, description="The tool the job made, or found already in the catalog")
    outcome: str | None = Field(
        None, description="When done: created, replaced (the URL's earlier content) or unchanged (nothing changed)"
    )
    existing: bool = Field(
        False,
        description="True when nothing new was done: the content was already in the catalog (outcome unchanged; "
        "tool_id is that tool), or, answering a submission, an open job for the same URL was returned",
    )
    error: str | None = None
    error_code: str | None = None
    attempts: int
    backend: str | None = Field(None, description="The decomposer that ran: llm or extractive")
    model: str | None = Field(None, description="The LLM that ran, if any")
    prompt_version: str | None = None
    notice: str | None = Field(None, description="e.g. why auto used the extractive backend")
    usage: LLMUsage | None = Field(None, description="LLM requests, retries, re-asks, tokens and cost of this job")
    worker: str | None = Field(None, description="The worker holding (or that last held) the job's lease")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        return cls(
            job_id=job.id,
            status=job.status.value,
            stage=job.stage.value,
            progress=job.progress,
            source=job.source,
            extractor=job.extractor,
            tool_id=job.tool_id,
            outcome=job.outcome.value if job.outcome else None,
            existing=job.outcome == JobOutcome.UNCHANGED,
            error=job.error,
            error_code=job.error_code,
            attempts=job.attempts,
            backend=job.backend,
            model=job.model,
            prompt_version=job.prompt_version,
            notice=job.notice,
            usage=job.usage,
            worker=job.worker,
            created_at=job.created_at,
            updated_at=job.updated_at,
            finished_at=job.finished_at,
        )


class LLMCallPublic(BaseModel):
    kind: str = Field(description="decompose, classify or contrast")
    model: str
    status: int | None = Field(description="HTTP status, or null when no answer came (timeout, connection)")
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    error: str | None
    created_at: datetime


class SubmitResponse(JobPublic):
    """The job a submission queued (or the open job for the same URL it returned: existing=true)."""


class ToolSummary(BaseModel):
    id: str
    name: str
    url: str
    type: str
    pricing: str
    starting_price: str | None
    license: str | None
    summary: str
    category: str | None
    capabilities_count: int
    times_matched: int
    created_at: datetime

    @classmethod
    def of(cls, tool: Tool, capabilities_count: int | None = None) -> ToolSummary:
        return cls(
            id=tool.id,
            name=tool.name,
            url=tool.url,
            type=tool.type.value,
            pricing=tool.pricing.value,
            starting_price=tool.starting_price.label() if tool.starting_price else None,
            license=tool.license,
            summary=tool.summary,
            category=tool.category,
            capabilities_count=capabilities_count if capabilities_count is not None else len(tool.capabilities),
            times_matched=tool.times_matched,
            created_at=tool.created_at,
        )


class ToolList(BaseModel):
    tools: list[ToolSummary]
    total: int


class ToolPublic(BaseModel):
    id: str
    name: str
    url: str
    type: str
    type_basis: Inference | None
    pricing: str
    pricing_basis: Inference | None
    starting_price: Price | None
    license: str | None
    summary: str
    category: str | None
    metadata: dict[str, Any]
    content_hash: str
    source_format: str
    fetched_at: datetime
    extractor: str
    extractor_version: str
    times_matched: int
    usage: LLMUsage | None
    grounding_rate: float
    rank: RankPublic
    capabilities: list[Capability]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tool: Tool, rank: Rank) -> ToolPublic:
        return cls(
            **tool.model_dump(exclude={"capabilities", "type", "pricing"}),
            type=tool.type.value,
            pricing=tool.pricing.value,
            grounding_rate=round(tool.grounding_rate, 3),
            rank=RankPublic.of(rank),
            capabilities=tool.capabilities,
        )


class CapabilityRefPublic(BaseModel):
    id: int
    name: str


class MatchedPairPublic(BaseModel):
    capability: CapabilityRefPublic = Field(description="The queried tool's capability")
    other: CapabilityRefPublic = Field(description="The similar tool's capability")
    similarity: float


class SimilarHitPublic(BaseModel):
    tool_id: str
    name: str
    type: str
    pricing: str
    score: float
    matched: list[MatchedPairPublic]


class SimilarResponse(BaseModel):
    tool_id: str
    k: int
    results: list[SimilarHitPublic]


class TextMatchPublic(BaseModel):
    capability: CapabilityRefPublic
    similarity: float


class SearchHitPublic(BaseModel):
    tool_id: str
    name: str
    type: str
    pricing: str
    score: float = Field(
        description=(
            "hybrid: the weighted mean of the capability, document and BM25 signals (weights fixed across "
            "labelled sets) plus the facet bonus, in rank order; vector or lexical: that signal alone"
        )
    )
    matched: list[TextMatchPublic] = Field(description="capabilities at or above the search floor (README)")
    weak: bool = Field(description="no capability reaches the search floor: a weak match")


class SearchResponse(BaseModel):
    query: str
    k: int
    results: list[SearchHitPublic]


class GraphNodePublic(BaseModel):
    id: str
    name: str
    type: str
    pricing: str
    category: str | None
    capabilities: int
    times_matched: int
    pagerank: float
    degree: int


class GraphEdgePublic(BaseModel):
    source: str
    target: str
    weight: float = Field(description="Tool-pair similarity score")
    pairs: int = Field(description="Matched capability pairs")


class GraphResponse(BaseModel):
    nodes: list[GraphNodePublic]
    edges: list[GraphEdgePublic]


class IndexStatusPublic(BaseModel):
    kind: str
    count: int
    generation: str = Field(description="Catalog generation token the index reflects")
    rebuilt: bool


class HealthResponse(BaseModel):
    status: str
    tools: int
    capabilities: int
    index: IndexStatusPublic
    embedding_model: str
    extractor: str
