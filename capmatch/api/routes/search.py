"""Free-text search: tools ranked by how well their capabilities answer a need."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from capmatch.api.schemas import SearchHitPublic, SearchResponse
from capmatch.http.deps import CoreDep, run_query
from capmatch.models import parse_pricing, parse_type
from capmatch.storage.base import ToolFilter

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("", response_model=SearchResponse)
async def search(
    request: Request,
    core: CoreDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What you need, in words")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    type: str | None = None,
    pricing: str | None = None,
) -> SearchResponse:
    flt = ToolFilter(parse_type(type), parse_pricing(pricing))
    hits = await run_query(request, core.search, q, k, flt)
    return SearchResponse(query=q, k=k, results=[SearchHitPublic.model_validate(h, from_attributes=True) for h in hits])
