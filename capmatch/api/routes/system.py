"""Health and maintenance."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from capmatch.api.schemas import HealthResponse, IndexStatusPublic
from capmatch.http.access import require_key
from capmatch.http.deps import CoreDep

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health", response_model=HealthResponse)
def health(core: CoreDep) -> HealthResponse:
    index = core.index()  # loads or rebuilds the index if needed; never loads the model
    return HealthResponse(
        status="ok",
        tools=core.catalog.tool_count(),
        capabilities=core.catalog.capability_count(),
        index=IndexStatusPublic(
            kind=index.kind, count=index.count(), generation=core.catalog.generation(), rebuilt=False
        ),
        embedding_model=core.settings.embedding_model,
        extractor=core.settings.extractor,
    )


@router.post("/reindex", response_model=IndexStatusPublic, dependencies=[Depends(require_key)])
def reindex(core: CoreDep) -> IndexStatusPublic:
    """Rebuild the vector index from the vectors stored in the database."""
    status = core.reindex()
    return IndexStatusPublic(kind=status.kind, count=status.count, generation=status.generation, rebuilt=status.rebuilt)
