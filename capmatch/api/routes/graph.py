"""The match graph: tools as nodes, capability matches as weighted edges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from capmatch.api.schemas import GraphEdgePublic, GraphNodePublic, GraphResponse
from capmatch.http.deps import CoreDep
from capmatch.matching.graph import NEIGHBOURHOOD_LIMIT, around

router = APIRouter(prefix="/api/graph", tags=["graph"])


@router.get("", response_model=GraphResponse)
def get_graph(
    core: CoreDep,
    tool: Annotated[str | None, Query(description="Centre on this tool id and its neighbourhood")] = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> GraphResponse:
    graph = core.graph(current_counts=True)
    if tool is not None:
        core.catalog.get_tool(tool, with_capabilities=False)  # 404 for unknown ids
        # Capped like the graph page: a hub's 3-step neighbourhood can be most of a large catalog.
        graph = around(graph, tool, depth, NEIGHBOURHOOD_LIMIT)
    return GraphResponse(
        nodes=[GraphNodePublic.model_validate(n, from_attributes=True) for n in graph.nodes],
        edges=[GraphEdgePublic.model_validate(e, from_attributes=True) for e in graph.edges],
    )
