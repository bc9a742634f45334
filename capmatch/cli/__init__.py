"""The capmatch command line: data to stdout, status to stderr, --json for scripts."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from capmatch.core import CapMatch
from capmatch.errors import CapmatchError
from capmatch.settings import get_settings

app = typer.Typer(
    name="capmatch",
    help="Grounded capability extraction, similar-tool search and comparisons.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
ExtractorOpt = Annotated[
    str | None,
    typer.Option(help="auto (LLM when configured, else extractive), llm or extractive [CAPMATCH_EXTRACTOR]."),
]
KOpt = Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many results.")]


def handle_errors(func: F) -> F:
    """Errors become one line on stderr and exit code 1; core code never prints."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CapmatchError as exc:
            err.print(f"[red]error:[/red] {esc(exc.message)}", highlight=False)
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]


def _core() -> CapMatch:
    return CapMatch(get_settings())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _tool_json(core: CapMatch, tool_id: str) -> dict[str, Any]:
    from capmatch.api.schemas import ToolPublic
    from capmatch.matching.graph import match_graph
    from capmatch.matching.rank import rank

    tool = core.store.get_tool(tool_id)
    return ToolPublic.of(tool, rank(tool, match_graph(core))).model_dump(mode="json")


eval_app = typer.Typer(help="Measure quality on labelled data.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed and memory against naive baselines.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


@eval_app.command("similar")
@handle_errors
def eval_similar(
    dataset: Annotated[Path, typer.Option("--dataset", help="Labelled JSONL in the ingest format (with category).")],
    k: KOpt = 10,
    extractor: Annotated[str, typer.Option(help="Decomposer for the temporary catalog.")] = "extractive",
    as_json: JsonOpt = False,
) -> None:
    """Score similar-tool search on labelled data (relevant = same category) against BM25 and
    whole-text embedding, in the same run, in a temporary catalog.

    Example: capmatch eval similar --dataset ../shared/data/vendor-docs/index.jsonl --json
    """
    from capmatch.evaluation.similar import evaluate

    with _bar() as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)

        result = evaluate(dataset, k=k, extractor=extractor, progress=report)
    methods = {name: result[name] for name in ("capmatch", "bm25", "embedding")}
    for failure in result["failed"]:  # type: ignore[attr-defined]
        err.print(f"  not ingested: line {failure['line']} ({failure['name']}): {failure['error']}", markup=False)
    if as_json:
        _print_json(methods)
        return
    table = Table("method", "P@1", "P@5", "MRR", "nDCG@10", "queries", title=f"{dataset} ({result['tools']} tools)")
    for name, values in methods.items():
        table.add_row(name, *(str(values[m]) for m in ("P@1", "P@5", "MRR", "nDCG@10", "queries")))  # type: ignore[index]
    out.print(table)


@bench_app.command("search")
@handle_errors
def bench_search(
    vectors: Annotated[list[int] | None, typer.Option("--vectors", help="Index size(s); repeat for several.")] = None,
    queries: Annotated[int, typer.Option(help="Queries per size.")] = 500,
    data: Annotated[
        list[str] | None, typer.Option("--data", help="real (vendor-docs MiniLM vectors) and/or synthetic.")
    ] = None,
    encoding: Annotated[
        list[str] | None, typer.Option("--encoding", help="IVF codes: sq8 (default) and/or flat; repeat to compare.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Vector search at N capability vectors: build time, memory, p50/p99, recall@10, and the numpy
    brute force in the same run.

    Example: capmatch bench search --vectors 100000 --vectors 1000000 --encoding sq8 --encoding flat --json
    """
    from capmatch.evaluation.bench_search import bench

    sizes = vectors or [100_000, 1_000_000]
    results = []
    for n in sizes:
        for kind in data or ["real", "synthetic"]:
            for codes in encoding or ["sq8"]:
                err.print(f"benchmarking search at {n} {kind} vectors ({codes})…")
                results.append(bench(n, queries, data=kind, encoding=codes))
    if as_json:
        _print_json(results if len(results) > 1 else results[0])
        return
    keys = [
        "vectors",
        "data",
        "index",
        "encoding",
        "build_seconds",
        "index_memory_mb",
        "index_payload_mb",
        "query_p50_ms",
        "query_p99_ms",
        "recall_at_10",
        "recall_at_10_real_queries",
        "brute_force_p50_ms",
        "speedup_vs_brute_force",
    ]
    table = Table(*keys, title="capmatch bench search")
    for row in results:
        table.add_row(*(str(row[key]) for key in keys))
    out.print(table)


def _print_report(result: dict[str, Any], title: str, as_json: bool) -> None:
    if as_json:
        _print_json(result)
        return
    table = Table("measure", "value", title=title)
    for key, value in result.items():
        table.add_row(key, str(value))
    out.print(table)


@bench_app.command("ingest")
@handle_errors
def bench_ingest(
    docs: Annotated[int, typer.Option(help="Documents to ingest.")] = 30,
    llm_latency: Annotated[float, typer.Option(help="Seconds the loopback LLM waits before each answer.")] = 0.5,
    concurrency: Annotated[int, typer.Option(help="Documents ingested at once.")] = 4,
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of .md/.rst/.html/.txt pages to use instead of fixtures/docs.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest throughput with a loopback OpenAI-compatible LLM answering after a fixed delay, and the
    extractive backend on the same documents.

    Example: capmatch bench ingest --docs 30 --llm-latency 0.5 --concurrency 4 --json
    """
    from capmatch.evaluation.bench_ingest import FIXTURES, bench

    result = bench(docs, llm_latency, concurrency, corpus or FIXTURES)
    _print_report(result, "capmatch bench ingest", as_json)


@bench_app.command("embed")
@handle_errors
def bench_embed(
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of pages whose sentences are embedded [default: vendor-docs].")
    ] = None,
    texts: Annotated[int, typer.Option(help="Distinct sentences to embed.")] = 1000,
    runs: Annotated[int, typer.Option(help="Runs per backend; the median is reported.")] = 3,
    int8: Annotated[bool, typer.Option("--int8", help="Also measure ONNX Runtime int8 quantisation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Embedding throughput (texts/s), PyTorch against ONNX Runtime in the same run, on the sentences
    of real vendor pages, with each backend's cosine agreement to PyTorch.

    Example: capmatch bench embed --texts 1000 --runs 3 --json
    """
    from capmatch.evaluation.bench_embed import bench

    folder = corpus or get_settings().shared_data / "vendor-docs"
    backends = ("torch", "onnx", "onnx-int8") if int8 else ("torch", "onnx")
    err.print(f"embedding {texts} sentences of {folder} with {', '.join(backends)}, {runs} runs each…")
    _print_report(bench(folder, texts, runs, backends), "capmatch bench embed", as_json)


@bench_app.command("api")
@handle_errors
def bench_api(
    tools: Annotated[int, typer.Option(help="Synthetic catalog size.")] = 100_000,
    requests: Annotated[int, typer.Option(help="Requests per endpoint.")] = 300,
    home: Annotated[Path | None, typer.Option(help="Keep (and reuse) the synthetic catalog here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """End-to-end /api/search (query embedding included) and /api/compare latency over HTTP on a
    synthetic catalog of N tools.

    Example: capmatch bench api --tools 100000 --json
    """
    from capmatch.evaluation.bench_api import bench

    result = bench(tools, requests, home)
    _print_report(result, "capmatch bench api", as_json)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: CAPMATCH_HOST or 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: CAPMATCH_PORT or 8000].")] = None,
) -> None:
    """Serve the API (and its docs at /docs) with a background ingestion worker.

    Example: capmatch serve --port 8000
    """
    import uvicorn

    from capmatch.app import create_app
    from capmatch.http.access import exposure_warning

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    err.print(f"capmatch: catalog in {settings.home.resolve()}; API docs at http://{host}:{port}/docs")
    warning = exposure_warning(host, settings.api_key)
    if warning:
        err.print(warning, style="bold yellow", markup=False, soft_wrap=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
@handle_errors
def add(
    source: Annotated[str, typer.Argument(help="A URL (http/https) or a local file (.html, .md, .rst, .txt).")],
    name: Annotated[str | None, typer.Option(help="Tool name; read from the page when omitted.")] = None,
    extractor: ExtractorOpt = None,
    category: Annotated[str | None, typer.Option(help="Category label kept with the tool.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate LLM requests, tokens and cost; send no LLM request.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add one tool from a URL or a local file.

    Example: capmatch add https://raw.githubusercontent.com/encode/httpx/master/README.md --extractor llm
    """
    from capmatch.llm.meter import UsageMeter
    from capmatch.pipeline.ingest import Source, ingest, record_calls
    from capmatch.pipeline.ingest import dry_run as estimate

    core = _core()
    is_url = source.startswith(("http://", "https://"))
    src = Source(
        url=source if is_url else None,
        path=None if is_url else Path(source),
        name=name,
        extractor=extractor,
        category=category,
    )
    if dry_run:
        plan = estimate(core, src)
        if as_json:
            _print_json(asdict(plan))
            return
        cost = "unknown (model not in CAPMATCH_LLM_PRICES)" if plan.cost_usd is None else f"${plan.cost_usd:.4f}"
        out.print(
            f"backend {plan.backend}{f' ({plan.model})' if plan.model else ''}: {plan.requests} requests "
            f"({plan.cached} answers cached), {plan.chunks} chunk(s); about {plan.prompt_tokens} prompt + "
            f"{plan.completion_tokens} completion tokens, cost {cost}. The raw page is {plan.raw_page_tokens} tokens.",
            highlight=False,
            markup=False,
        )
        if plan.notice:
            err.print(plan.notice, markup=False)
        return
    meter = UsageMeter()
    started = time.perf_counter()
    try:
        with _stage_progress() as (progress, task):
            result = ingest(
                core,
                src,
                lambda stage, f: progress.update(task, completed=f * 100, description=stage.value),
                meter=meter,
            )
    finally:
        record_calls(core, meter)
    elapsed = time.perf_counter() - started
    tool = result.tool
    if as_json:
        _print_json(_tool_json(core, tool.id))
    else:
        _print_tool(core, tool.id)
    verb = "added" if result.created else "unchanged"
    err.print(
        f"{verb} {tool.id}: {len(tool.capabilities)} capabilities ({tool.grounding_rate:.0%} grounded) "
        f"in {elapsed:.1f}s" + (f" ({result.notice})" if result.notice else ""),
        markup=False,
    )
    usage = meter.snapshot()
    if usage.requests or usage.cached:
        cost = "" if usage.cost_usd is None else f", ${usage.cost_usd:.4f}"
        err.print(
            f"LLM: {usage.requests} requests ({usage.retries} retries, {usage.reasks} re-asks, {usage.cached} cached), "
            f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens{cost}",
            markup=False,
        )


@app.command()
@handle_errors
def ingest(
    file: Annotated[Path, typer.Argument(help="JSONL: one record per line with a name and a document.")],
    extractor: ExtractorOpt = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the catalog has tools.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add many tools from a JSONL file (records: name, then text | file | description | url;
    optional category, type, pricing; other keys are kept as metadata).

    Example: capmatch ingest fixtures/demo.jsonl
    """
    from capmatch.llm.meter import UsageMeter
    from capmatch.pipeline.ingest import ingest as ingest_one
    from capmatch.pipeline.ingest import record_calls
    from capmatch.pipeline.records import read_records

    core = _core()
    if if_empty and core.store.tool_count() > 0:
        err.print(f"catalog already has {core.store.tool_count()} tools: nothing to ingest (--if-empty)")
        return
    records = list(read_records(file, extractor))
    added, unchanged, failures = [], [], []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("ingesting", total=len(records))
        for record in records:
            progress.update(task, description=f"ingesting {record.name[:30]}")
            if record.source is None:
                failures.append({"line": record.line, "name": record.name, "error": record.error})
            else:
                meter = UsageMeter()
                try:
                    result = ingest_one(core, record.source, meter=meter)
                    (added if result.created else unchanged).append(result.tool.id)
                except CapmatchError as exc:
                    failures.append({"line": record.line, "name": record.name, "error": exc.message})
                except Exception as exc:  # one bad record must not stop the batch or lose the summary
                    failures.append(
                        {
                            "line": record.line,
                            "name": record.name,
                            "error": f"internal error: {type(exc).__name__}: {exc}",
                        }
                    )
                finally:
                    record_calls(core, meter)
            progress.advance(task)
    summary = {"added": added, "unchanged": unchanged, "failed": failures}
    if as_json:
        _print_json(summary)
    err.print(f"{len(added)} added, {len(unchanged)} unchanged, {len(failures)} failed")
    for failure in failures:
        err.print(f"  line {failure['line']} ({failure['name']}): {failure['error']}", highlight=False, markup=False)
    if failures:
        raise typer.Exit(1)


@app.command()
@handle_errors
def similar(
    tool: Annotated[str, typer.Argument(help="Tool id (see `capmatch tools`).")],
    k: KOpt = 10,
    type: Annotated[str | None, typer.Option(help="Only tools of this type.")] = None,
    pricing: Annotated[str | None, typer.Option(help="Only tools with this pricing.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tools similar to TOOL, with the capability pairs that matched.

    Example: capmatch similar fetchwire -k 5
    """

    from capmatch.matching.similar import similar_tools
    from capmatch.pipeline.ingest import parse_pricing, parse_type
    from capmatch.storage.catalog import ToolFilter

    hits = similar_tools(_core(), tool, k, ToolFilter(parse_type(type), parse_pricing(pricing)))
    if as_json:
        _print_json({"tool_id": tool, "k": k, "results": [asdict(h) for h in hits]})
        return
    table = Table("score", "tool", "type", "pricing", "matched capabilities", title=f"Similar to {tool}")
    for h in hits:
        pairs = "\n".join(f"{p.capability.name} ↔ {p.other.name} ({p.similarity:.2f})" for p in h.matched[:3])
        table.add_row(f"{h.score:.3f}", esc(f"{h.name} ({h.tool_id})"), h.type, h.pricing, esc(pairs or "—"))
    out.print(table)


@app.command()
@handle_errors
def search(
    text: Annotated[str, typer.Argument(help="What you need, in words.")],
    k: KOpt = 10,
    type: Annotated[str | None, typer.Option(help="Only tools of this type.")] = None,
    pricing: Annotated[str | None, typer.Option(help="Only tools with this pricing.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tools whose capabilities best match a free-text need.

    Example: capmatch search "retry failed background jobs"
    """

    from capmatch.matching.similar import search_text
    from capmatch.pipeline.ingest import parse_pricing, parse_type
    from capmatch.storage.catalog import ToolFilter

    hits = search_text(_core(), text, k, ToolFilter(parse_type(type), parse_pricing(pricing)))
    if as_json:
        _print_json({"query": text, "k": k, "results": [asdict(h) for h in hits]})
        return
    table = Table("score", "tool", "type", "pricing", "matching capabilities", title=f"Search: {text}")
    for h in hits:
        caps = "\n".join(f"{m.capability.name} ({m.similarity:.2f})" for m in h.matched)
        table.add_row(f"{h.score:.3f}", esc(f"{h.name} ({h.tool_id})"), h.type, h.pricing, esc(caps))
    out.print(table)


@app.command()
@handle_errors
def compare(
    a: Annotated[str, typer.Argument(help="First tool id.")],
    b: Annotated[str, typer.Argument(help="Second tool id.")],
    format: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
) -> None:
    """Compare two tools: table, capabilities, alignment, verdict.

    Example: capmatch compare wardline-guard codeforge-corpus --format markdown
    """
    from capmatch.errors import InvalidInput
    from capmatch.matching.compare import compare as compare_tools
    from capmatch.matching.render import comparison_markdown

    if format not in ("markdown", "json"):
        raise InvalidInput(f"unknown format {format!r}: use markdown or json")
    comparison = compare_tools(_core(), a, b)
    if format == "json":
        _print_json(comparison.model_dump(mode="json"))
    else:
        sys.stdout.write(comparison_markdown(comparison))


@app.command()
@handle_errors
def tools(
    type: Annotated[str | None, typer.Option(help="Only tools of this type.")] = None,
    pricing: Annotated[str | None, typer.Option(help="Only tools with this pricing.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the catalog.

    Example: capmatch tools --type Library
    """
    from capmatch.pipeline.ingest import parse_pricing, parse_type
    from capmatch.storage.catalog import ToolFilter

    core = _core()
    listed = core.store.list_tools(ToolFilter(parse_type(type), parse_pricing(pricing)), limit=10_000)
    counts = core.store.capability_counts([t.id for t in listed])
    if as_json:
        _print_json(
            [
                {
                    "id": t.id,
                    "name": t.name,
                    "type": t.type.value,
                    "pricing": t.pricing.value,
                    "url": t.url,
                    "capabilities": counts.get(t.id, 0),
                    "times_matched": t.times_matched,
                }
                for t in listed
            ]
        )
        return
    table = Table("id", "name", "type", "pricing", "capabilities", "times matched")
    for t in listed:
        table.add_row(
            t.id,
            esc(t.name),
            t.type.value,
            t.pricing.value,
            str(counts.get(t.id, 0)),
            str(t.times_matched),
        )
    out.print(table)


@app.command()
@handle_errors
def show(
    tool: Annotated[str, typer.Argument(help="Tool id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one tool with its capabilities, contrast lines and evidence.

    Example: capmatch show fetchwire
    """
    core = _core()
    if as_json:
        _print_json(_tool_json(core, tool))
    else:
        _print_tool(core, tool)


@app.command()
@handle_errors
def delete(tool: Annotated[str, typer.Argument(help="Tool id.")]) -> None:
    """Delete a tool; other tools' contrast lines and match edges are updated.

    Example: capmatch delete fetchwire
    """
    _core().delete_tool(tool)
    err.print(f"deleted {tool}")


@app.command()
@handle_errors
def reindex(as_json: JsonOpt = False) -> None:
    """Rebuild the vector index from the vectors stored in the database.

    Example: capmatch reindex
    """
    started = time.perf_counter()
    status = _core().reindex()
    if as_json:
        _print_json({"kind": status.kind, "count": status.count, "generation": status.generation})
    err.print(f"rebuilt {status.kind} index: {status.count} vectors in {time.perf_counter() - started:.1f}s")


@app.command("export")
@handle_errors
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the JSONL export (overwritten).")],
    as_json: JsonOpt = False,
) -> None:
    """Back up the whole catalog, losslessly, as JSONL (restore it with `capmatch import`).

    Example: capmatch export backup.jsonl
    """
    core = _core()
    tmp = file.with_name(file.name + ".partial")
    # Written beside the target and renamed at the end: an interrupted export never leaves a file
    # that looks complete.
    with tmp.open("w", encoding="utf-8") as out:
        tools = core.export_catalog(out)
    tmp.replace(file)
    if as_json:
        _print_json({"file": str(file), "tools": tools, "bytes": file.stat().st_size})
    err.print(f"exported {tools} tools to {file}")


@app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(help="A JSONL file written by `capmatch export`.")],
    as_json: JsonOpt = False,
) -> None:
    """Restore an export into an empty catalog (CAPMATCH_HOME); all of it lands or none of it.

    Example: CAPMATCH_HOME=./restored capmatch import backup.jsonl
    """
    from capmatch.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    started = time.perf_counter()
    tools = _core().import_catalog(file)
    if as_json:
        _print_json({"file": str(file), "tools": tools})
    err.print(f"imported {tools} tools from {file} in {time.perf_counter() - started:.1f}s")


def _stage_progress() -> Any:
    from contextlib import contextmanager

    @contextmanager
    def manager() -> Any:
        with Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            yield progress, progress.add_task("starting", total=100)

    return manager()


def _print_tool(core: CapMatch, tool_id: str) -> None:
    # Vendor text is printed with markup off: "list[int]" or "[/bold]" in a page must print as is.
    tool = core.store.get_tool(tool_id)
    price = f", from {tool.starting_price.label()}" if tool.starting_price else ""
    out.print(
        f"[bold]{esc(tool.name)}[/bold] ({tool.id}) — {tool.type.value}, {tool.pricing.value}{esc(price)}",
        highlight=False,
    )
    for line in (tool.url, tool.summary):
        if line:
            out.print(line, highlight=False, markup=False)
    for cap in tool.capabilities:
        flag = "" if cap.grounded else " [yellow](not grounded)[/yellow]"
        out.print(f"\n• [bold]{esc(cap.name)}[/bold]{flag}", highlight=False)
        out.print(f"  {cap.description}", highlight=False, markup=False)
        out.print(f"  Unique: {cap.unique}", highlight=False, markup=False)
        out.print(f"  vs alternatives: {cap.vs_alternatives}", highlight=False, markup=False)
        for e in cap.evidence:
            out.print(f"  evidence [{e.start}:{e.end}]: “{' '.join(e.quote.split())}”", highlight=False, markup=False)


if __name__ == "__main__":
    app()
