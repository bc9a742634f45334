"""Tools: submit a URL (creates a job), list, read, read the source snapshot, similar tools, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from capmatch.api.schemas import (
    JobPublic,
    SimilarHitPublic,
    SimilarResponse,
    SubmitRequest,
    SubmitResponse,
    ToolList,
    ToolPublic,
    ToolSummary,
)
from capmatch.http.access import client_of, require_key
from capmatch.http.deps import CoreDep, WorkerDep, run_query
from capmatch.http.submission import submit_url
from capmatch.models import parse_pricing, parse_type
from capmatch.storage.base import ToolFilter

router = APIRouter(prefix="/api/tools", tags=["tools"])

TypeQuery = Annotated[str | None, Query(description="Filter by type, e.g. Model, Dataset, Library")]
PricingQuery = Annotated[str | None, Query(description="Filter by pricing: Free, Freemium, Paid, Unknown")]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitResponse,
    dependencies=[Depends(require_key)],
    responses={
        401: {"description": "CAPMATCH_API_KEY is set and the bearer key is missing or wrong"},
        429: {"description": "Too many submissions from this client; see Retry-After"},
    },
)
async def submit_tool(
    body: SubmitRequest, request: Request, core: CoreDep, worker: WorkerDep, response: Response
) -> SubmitResponse:
    """Queue a URL for ingestion. Returns the job; poll `GET /api/jobs/{job_id}`.

    The same URL submitted while its job is still open returns that job (`existing: true`). A job
    whose page is already in the catalog ends `done` with `outcome: unchanged`, `existing: true` and
    that tool's id; a page that cannot be fetched (including a host that does not resolve) fails
    `fetch_failed`.
    """
    request.app.state.limiter.check(client_of(request))
    job, created = await submit_url(core, worker, str(body.url), body.extractor, body.name)
    response.headers["Location"] = f"/api/jobs/{job.id}"
    public = JobPublic.of(job)
    return SubmitResponse(**public.model_dump(exclude={"existing"}), existing=public.existing or not created)


@router.get("", response_model=ToolList)
def list_tools(
    core: CoreDep,
    type: TypeQuery = None,
    pricing: PricingQuery = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> ToolList:
    flt = ToolFilter(parse_type(type), parse_pricing(pricing), category)
    tools = core.catalog.list_tools(flt, limit=limit, offset=offset)
    counts = core.catalog.capability_counts([t.id for t in tools])
    return ToolList(
        tools=[ToolSummary.of(t, counts.get(t.id, 0)) for t in tools],
        total=core.catalog.count_tools(flt),
    )


@router.get("/{tool_id}", response_model=ToolPublic)
def get_tool(tool_id: str, core: CoreDep) -> ToolPublic:
    tool = core.catalog.get_tool(tool_id)
    return ToolPublic.of(tool, core.rank(tool))


@router.get("/{tool_id}/source", response_class=PlainTextResponse)
def get_source(tool_id: str, core: CoreDep) -> str:
    """The cleaned source snapshot that evidence offsets point into."""
    return core.catalog.source_text(tool_id)


@router.get("/{tool_id}/similar", response_model=SimilarResponse)
async def get_similar(
    request: Request,
    tool_id: str,
    core: CoreDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    type: TypeQuery = None,
    pricing: PricingQuery = None,
) -> SimilarResponse:
    """Tools whose capabilities match this tool's, with the capability pairs that matched."""
    flt = ToolFilter(parse_type(type), parse_pricing(pricing))
    hits = await run_query(request, core.similar, tool_id, k, flt)
    return SimilarResponse(
        tool_id=tool_id, k=k, results=[SimilarHitPublic.model_validate(h, from_attributes=True) for h in hits]
    )


@router.delete("/{tool_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(require_key)])
def delete_tool(tool_id: str, core: CoreDep) -> Response:
    core.delete_tool(tool_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
