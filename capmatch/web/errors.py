"""Errors on pages come back as pages; the API keeps its JSON errors."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import HTMLResponse

from capmatch.web.templating import templates

TITLES = {400: "That request was refused", 404: "Not found", 422: "Check the form", 429: "Too many requests"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or path in ("/api", "/docs", "/redoc", "/openapi.json"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "GET"


def html_error(
    request: Request, status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    title = TITLES.get(status_code, "Something went wrong" if status_code >= 500 else "Request refused")
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message},
        status_code=status_code,
        headers=dict(headers or {}),
    )
