"""Jobs: the progress and outcome of URL submissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from capmatch.api.schemas import JobPublic, LLMCallPublic
from capmatch.http.deps import CoreDep
from capmatch.models import JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("", response_model=list[JobPublic])
def list_jobs(
    core: CoreDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobPublic]:
    return [JobPublic.of(j) for j in core.jobs.list(limit=limit, status=status.value if status else None)]


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, core: CoreDep) -> JobPublic:
    return JobPublic.of(core.jobs.get(job_id))


@router.get("/{job_id}/calls", response_model=list[LLMCallPublic])
def get_job_calls(job_id: str, core: CoreDep) -> list[LLMCallPublic]:
    """Every request this job sent to the LLM endpoint: task, status, duration, tokens, error."""
    core.jobs.get(job_id)  # 404 for unknown ids
    return [LLMCallPublic(**row) for row in core.catalog.llm_calls(job_id)]
