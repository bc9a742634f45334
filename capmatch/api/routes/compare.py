"""Compare two tools side by side, as JSON or as a Markdown page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from capmatch.http.cache import ResponseCache
from capmatch.http.deps import CoreDep, run_query
from capmatch.matching.compare import Comparison
from capmatch.matching.render import comparison_markdown

router = APIRouter(prefix="/api/compare", tags=["compare"])


@router.get(
    "/{a}/{b}",
    response_model=Comparison,
    responses={200: {"content": {"text/markdown": {}}, "description": "JSON, or Markdown with ?format=markdown"}},
)
async def compare_tools(
    a: str, b: str, core: CoreDep, request: Request, format: Annotated[Literal["json", "markdown"], Query()] = "json"
) -> Response:
    def render() -> bytes:
        comparison = core.compare(a, b)
        if format == "markdown":
            return comparison_markdown(comparison).encode("utf-8")
        return comparison.model_dump_json().encode("utf-8")

    cache: ResponseCache = request.app.state.responses
    key, generation = ("compare", a, b, format), core.catalog.generation()
    # A cached body is served straight from the event loop: no thread hand-off per request.
    body = cache.peek(key, generation, render)
    if body is None:
        body = await run_query(request, cache.get_or_render, key, generation, render)
    media = "text/markdown; charset=utf-8" if format == "markdown" else "application/json"
    return Response(body, media_type=media)
