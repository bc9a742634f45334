"""Compare two tools side by side, as JSON or as a Markdown page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import CoreDep
from matching.compare import Comparison, compare
from matching.render import comparison_markdown

router = APIRouter(prefix="/api/compare", tags=["compare"])


@router.get(
    "/{a}/{b}",
    response_model=Comparison,
    responses={200: {"content": {"text/markdown": {}}, "description": "JSON, or Markdown with ?format=markdown"}},
)
def compare_tools(
    a: str, b: str, core: CoreDep, format: Annotated[Literal["json", "markdown"], Query()] = "json"
) -> Comparison | Response:
    comparison = compare(core, a, b)
    if format == "markdown":
        return PlainTextResponse(comparison_markdown(comparison), media_type="text/markdown; charset=utf-8")
    return comparison
