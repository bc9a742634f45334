"""Errors become JSON: {"error": {"code": ..., "message": ...}} with the matching status code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from capmatch.errors import CapmatchError

log = logging.getLogger("capmatch.api")


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


HtmlError = Callable[[Request, int, str, Mapping[str, str] | None], Response]


def install(app: FastAPI, wants_html: Callable[[Request], bool], html_error: HtmlError) -> None:
    """JSON errors for the API; ``html_error`` renders them for page requests (``wants_html``)."""

    @app.exception_handler(CapmatchError)
    async def capmatch_error(request: Request, exc: CapmatchError) -> Response:
        if wants_html(request):
            return html_error(request, exc.http_status, exc.message, exc.headers)
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            if err.get("type") == "json_invalid":
                problems.append(f"malformed JSON body: {err.get('ctx', {}).get('error', err.get('msg'))}")
            else:
                problems.append(f"{where}: {err.get('msg')}")
        if wants_html(request):
            return html_error(request, 422, "Check the address: " + "; ".join(problems), None)
        details = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(
            error_body("invalid_request", "; ".join(problems) or "invalid request", details=details),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if wants_html(request):
            return html_error(request, 500, "Internal error; the server log has the details.", None)
        return JSONResponse(
            error_body("internal_error", f"internal error: {type(exc).__name__}; the server log has the details"),
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return html_error(request, exc.status_code, str(exc.detail), exc.headers)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)
