"""The HTML pages. Each route gathers what the API would return and hands it to a template; no
page computes anything the API does not."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from pydantic.networks import HttpUrl

from capmatch.errors import CapmatchError
from capmatch.http.access import bearer_token, check_key, client_of
from capmatch.http.cache import ResponseCache
from capmatch.http.deps import CoreDep, WorkerDep
from capmatch.http.guard import form_token
from capmatch.http.submission import submit_url
from capmatch.matching.graph import NEIGHBOURHOOD_LIMIT, MatchGraph, around, busiest
from capmatch.matching.rank import FORMULA
from capmatch.matching.search import SEARCH_FLOOR
from capmatch.models import JobStatus, parse_pricing, parse_type
from capmatch.storage.base import ToolFilter
from capmatch.web.errors import html_error
from capmatch.web.graph_svg import EDGES_PER_TOOL, Drawing, layout, strongest
from capmatch.web.progress import UNCHANGED_SKIPS_AFTER, step_states
from capmatch.web.templating import templates

router = APIRouter(include_in_schema=False)
log = logging.getLogger("capmatch.web")

PICKER_LIMIT = 500  # tools offered in "compare with…"; beyond that the box takes a typed name
URL_ADAPTER = TypeAdapter(HttpUrl)


def page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    core: CoreDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    type: str = "",
    pricing: str = "",
) -> HTMLResponse:
    flt = ToolFilter(parse_type(type or None), parse_pricing(pricing or None))
    with core.querying():
        hits = core.search(q, 10, flt) if q.strip() else []
    # Each matched capability with its description, so a hit explains itself.
    details = core.catalog.capability_descriptions(m.capability.id for h in hits for m in h.matched)
    return page(
        request,
        "home.html",
        q=q,
        type=type,
        pricing=pricing,
        strong=[h for h in hits if not h.weak],
        weaker=[h for h in hits if h.weak],
        weak_below=SEARCH_FLOOR,
        details=details,
        recent=core.catalog.list_tools(limit=8, recent_first=True),
        total=core.catalog.tool_count(),
    )


# Capability cards shown open on a tool page; the rest sit in one <details>, so similar tools and
# "compare with" stay within reach (12 open cards pushed them 4,700 px down).
OPEN_CAPABILITY_CARDS = 4


@router.get("/tools/{tool_id}", response_class=HTMLResponse)
def tool_page(request: Request, tool_id: str, core: CoreDep) -> HTMLResponse:
    tool = core.catalog.get_tool(tool_id)
    tool_rank = core.rank(tool)
    # Links on a page are not a similar search: they do not count towards times matched.
    with core.querying():
        similar = core.similar(tool_id, k=6, count_matches=False)
    total = core.catalog.tool_count()
    others = (
        [t for t in core.catalog.list_tools(limit=PICKER_LIMIT) if t.id != tool_id] if total <= PICKER_LIMIT else []
    )
    return page(
        request,
        "tool.html",
        tool=tool,
        rank=tool_rank,
        formula=FORMULA.strip(),
        similar=similar,
        others=others,
        open_cards=OPEN_CAPABILITY_CARDS,
    )


@router.get("/compare", response_class=RedirectResponse)
def compare_picker(
    request: Request,
    core: CoreDep,
    a: Annotated[str, Query(max_length=200)] = "",
    b: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The "compare with…" form: names or ids in, the shareable compare URL out."""
    found = [(typed, core.catalog.find_by_name(typed)) for typed in (a, b)]
    missing = [typed for typed, tool_id in found if tool_id is None]
    if missing:
        names = " or ".join(f"“{m}”" for m in missing if m.strip()) or "an empty name"
        message = f"No single tool in the catalog is called {names}: type a tool's name or id from its page."
        return html_error(request, 404, message)
    first, second = (quote(str(tool_id), safe="") for _, tool_id in found)
    return RedirectResponse(f"/compare/{first}/{second}", status_code=303)


@router.get("/compare/{a}/{b}", response_class=HTMLResponse)
def compare_page(request: Request, a: str, b: str, core: CoreDep) -> Response:
    def render() -> bytes:
        with core.querying():
            comparison = core.compare(a, b)
        body = templates.get_template("compare.html").render(request=request, c=comparison)
        return body.encode("utf-8")

    cache: ResponseCache = request.app.state.responses
    body = cache.get_or_render(("compare-page", a, b), core.catalog.generation(), render)
    return HTMLResponse(body)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, core: CoreDep) -> HTMLResponse:
    return _submit_page(request, core)


@router.post("/submit", response_class=HTMLResponse)
async def submit_post(
    request: Request,
    core: CoreDep,
    worker: WorkerDep,
    url: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    extractor: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
) -> Response:
    form = {"url": url, "name": name, "extractor": extractor}
    try:
        check_key(request, bearer_token(request) or api_key or None)
        request.app.state.limiter.check(client_of(request))
    except CapmatchError as exc:
        return _submit_page(request, core, form, exc.message, exc.http_status, exc.headers)
    try:
        checked = str(URL_ADAPTER.validate_python(url.strip()))
    except ValidationError:
        message = "Enter the full address of the tool's page, starting with http:// or https://."
        return _submit_page(request, core, form, message, 422)
    if len(name) > 200:
        return _submit_page(request, core, form, "A name is at most 200 characters.", 422)
    try:
        job, _ = await submit_url(core, worker, checked, extractor or None, name.strip() or None)
    except CapmatchError as exc:
        return _submit_page(request, core, form, exc.message, exc.http_status)
    except Exception:  # keep what was typed even when something unforeseen breaks
        log.exception("submitting %r from the form failed", url)
        return _submit_page(request, core, form, "The server could not queue this page; its log has the details.", 500)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _submit_page(
    request: Request,
    core: CoreDep,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    response = page(
        request,
        "submit.html",
        status_code=status_code,
        form=form or {"url": "", "name": "", "extractor": ""},
        error=error,
        llm=core.settings.llm_configured,
        needs_key=bool(core.settings.api_key),
        form_token=form_token(),
        jobs=core.jobs.list(limit=10),
    )
    response.headers.update(headers or {})
    return response


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, core: CoreDep) -> HTMLResponse:
    job = core.jobs.get(job_id)
    tool = None
    if job.tool_id and core.catalog.tool_exists(job.tool_id):
        tool = core.catalog.get_tool(job.tool_id, with_capabilities=False)
    open_job = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    deleted = job.tool_id is not None and tool is None
    return page(
        request,
        "job.html",
        job=job,
        tool=tool,
        deleted=deleted,
        steps=step_states(job),
        open_job=open_job,
        skip_after=UNCHANGED_SKIPS_AFTER,
    )


@router.get("/graph", response_class=HTMLResponse)
def graph_page(
    request: Request,
    core: CoreDep,
    tool: Annotated[str, Query(max_length=200)] = "",
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> HTMLResponse:
    full = core.graph()
    centre = core.catalog.find_by_name(tool) if tool.strip() else None

    def draw() -> tuple[MatchGraph, MatchGraph, Drawing]:
        # Capped either way: a hub's 3-step neighbourhood can be most of a large catalog.
        shown = (
            around(full, centre, depth, NEIGHBOURHOOD_LIMIT)
            if centre is not None
            else busiest(full, NEIGHBOURHOOD_LIMIT)
        )
        drawn = strongest(shown)
        return shown, drawn, layout(drawn, centre)

    # The whole-catalog picture is the one most people open: lay it out once per catalog change.
    shown, drawn, drawing = draw() if centre is not None else core.catalog.cached("graph-page", draw)
    status_code = 404 if tool.strip() and centre is None else 200
    return page(
        request,
        "graph.html",
        status_code=status_code,
        query=tool,
        depth=depth,
        centre=centre,
        drawing=drawing,
        drawn_edges=len(drawn.edges),
        matches=_matches(shown),
        shown_edges=len(shown.edges),
        per_tool=EDGES_PER_TOOL,
        shown=len(shown.nodes),
        total=len(full.nodes),
        edges_total=len(full.edges),
        names=core.catalog.names_page(PICKER_LIMIT),
    )


def _matches(graph: MatchGraph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in sorted(graph.edges, key=lambda e: -e.weight):
        out[e.source].append(e.target)
        out[e.target].append(e.source)
    return out
