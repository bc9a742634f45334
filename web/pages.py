"""The HTML pages. Each route gathers what the API would return and hands it to a template; no
page computes anything the API does not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from pydantic.networks import HttpUrl

from api.cache import ResponseCache
from api.deps import CoreDep, WorkerDep
from api.submission import submit_url
from capmatch.errors import CapmatchError
from capmatch.pipeline import parse_pricing, parse_type
from catalog.models import Capability, JobStatus
from catalog.store import ToolFilter
from matching.compare import compare
from matching.graph import MatchGraph, match_graph, neighbourhood
from matching.rank import FORMULA, rank
from matching.similar import SearchHit, search_text, similar_tools
from web.graph_svg import EDGES_PER_TOOL, busiest, layout, strongest
from web.progress import STEPS, step_states
from web.templating import templates

router = APIRouter(include_in_schema=False)

GRAPH_LIMIT = 120  # nodes drawn when no tool is centred
PICKER_LIMIT = 500  # tools offered in "compare with…"; beyond that the box takes a typed name
URL_ADAPTER = TypeAdapter(HttpUrl)
# A need and a capability phrased differently score lower than two capabilities do (MiniLM
# cosine): under this, a hit shares words with the need more than it meets it.
WEAK_SEARCH_MATCH = 0.3


def _best(hit: SearchHit) -> float:
    return max((m.similarity for m in hit.matched), default=0.0)


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
    hits = search_text(core, q, 10, flt) if q.strip() else []
    # Each matched capability with its description, so a hit explains itself.
    details: dict[int, Capability] = {}
    for hit in hits:
        for cap in core.store.get_tool(hit.tool_id).capabilities:
            if cap.id is not None:
                details[cap.id] = cap
    return page(
        request,
        "home.html",
        q=q,
        type=type,
        pricing=pricing,
        strong=[h for h in hits if _best(h) >= WEAK_SEARCH_MATCH],
        weaker=[h for h in hits if _best(h) < WEAK_SEARCH_MATCH],
        weak_below=WEAK_SEARCH_MATCH,
        details=details,
        recent=core.store.list_tools(limit=8, recent_first=True),
        total=core.store.tool_count(),
    )


@router.get("/tools/{tool_id}", response_class=HTMLResponse)
def tool_page(request: Request, tool_id: str, core: CoreDep) -> HTMLResponse:
    tool = core.store.get_tool(tool_id)
    tool_rank = rank(tool, match_graph(core))
    # Links on a page are not a similar search: they do not count towards times matched.
    similar = similar_tools(core, tool_id, k=6, count_matches=False)
    total = core.store.tool_count()
    others = [t for t in core.store.list_tools(limit=PICKER_LIMIT) if t.id != tool_id] if total <= PICKER_LIMIT else []
    return page(
        request,
        "tool.html",
        tool=tool,
        rank=tool_rank,
        formula=FORMULA.strip(),
        similar=similar,
        others=others,
    )


@router.get("/compare", response_class=RedirectResponse)
def compare_picker(core: CoreDep, a: str, b: str) -> RedirectResponse:
    """The "compare with…" form: names or ids in, the shareable compare URL out."""
    first = core.store.find_by_name(a) or a
    second = core.store.find_by_name(b) or b
    return RedirectResponse(f"/compare/{first}/{second}", status_code=303)


@router.get("/compare/{a}/{b}", response_class=HTMLResponse)
def compare_page(request: Request, a: str, b: str, core: CoreDep) -> Response:
    def render() -> bytes:
        comparison = compare(core, a, b)
        body = templates.get_template("compare.html").render(request=request, c=comparison)
        return body.encode("utf-8")

    cache: ResponseCache = request.app.state.responses
    body = cache.get_or_render(("compare-page", a, b), core.store.generation(), render)
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
) -> Response:
    form = {"url": url, "name": name, "extractor": extractor}
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
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _submit_page(
    request: Request,
    core: CoreDep,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "submit.html",
        status_code=status_code,
        form=form or {"url": "", "name": "", "extractor": ""},
        error=error,
        llm=core.settings.llm_configured,
        jobs=core.jobs.list(limit=10),
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, core: CoreDep) -> HTMLResponse:
    job = core.jobs.get(job_id)
    tool = core.store.get_tool(job.tool_id, with_capabilities=False) if job.tool_id else None
    open_job = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    return page(request, "job.html", job=job, tool=tool, steps=step_states(job), all_steps=STEPS, open_job=open_job)


@router.get("/graph", response_class=HTMLResponse)
def graph_page(
    request: Request,
    core: CoreDep,
    tool: Annotated[str, Query(max_length=200)] = "",
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> HTMLResponse:
    full = match_graph(core, current_counts=True)
    centre = core.store.find_by_name(tool) if tool.strip() else None
    shown = neighbourhood(full, centre, depth) if centre is not None else busiest(full, GRAPH_LIMIT)
    drawn = strongest(shown)
    status_code = 404 if tool.strip() and centre is None else 200
    return page(
        request,
        "graph.html",
        status_code=status_code,
        query=tool,
        depth=depth,
        centre=centre,
        drawing=layout(drawn, centre),
        drawn_edges=len(drawn.edges),
        matches=_matches(shown),
        shown_edges=len(shown.edges),
        per_tool=EDGES_PER_TOOL,
        shown=len(shown.nodes),
        total=len(full.nodes),
        edges_total=len(full.edges),
        names=sorted(((n.name, n.id) for n in full.nodes), key=lambda p: p[0].lower())[:PICKER_LIMIT],
    )


def _matches(graph: MatchGraph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in sorted(graph.edges, key=lambda e: -e.weight):
        out[e.source].append(e.target)
        out[e.target].append(e.source)
    return out
