"""The catalog: add and ingest tools, list, show, delete, re-index, export and import."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape as esc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from capmatch.cli.common import (
    ExtractorOpt,
    JsonOpt,
    app,
    err,
    handle_errors,
    out,
    print_json,
    print_tool,
    runtime,
    stage_progress,
    tool_json,
)
from capmatch.errors import CapmatchError


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
    from capmatch.pipeline.ingest import Source

    core = runtime()
    is_url = source.startswith(("http://", "https://"))
    src = Source(
        url=source if is_url else None,
        path=None if is_url else Path(source),
        name=name,
        extractor=extractor,
        category=category,
    )
    if dry_run:
        plan = core.dry_run(src)
        if as_json:
            print_json(asdict(plan))
            return
        cost = "unknown (model not in CAPMATCH_LLM_PRICES)" if plan.cost_usd is None else f"${plan.cost_usd:.4f}"
        out.print(
            f"backend {plan.backend}{f' ({plan.model})' if plan.model else ''}: {plan.requests} requests "
            f"({plan.cached} answers cached), {plan.chunks} chunk(s); about {plan.prompt_tokens} prompt + "
            f"{plan.completion_tokens} completion tokens, cost {cost}. The raw page is {plan.raw_page_tokens} tokens.",
            highlight=False,
            markup=False,
        )
        if plan.prices:
            out.print(f"prices assumed: {plan.prices}", highlight=False, markup=False)
        if plan.notice:
            err.print(plan.notice, markup=False)
        return
    meter = UsageMeter()
    started = time.perf_counter()
    try:
        with stage_progress() as (progress, task):
            result = core.ingest(
                src,
                lambda stage, f: progress.update(task, completed=f * 100, description=stage.value),
                meter=meter,
            )
    finally:
        core.record_calls(meter)
    elapsed = time.perf_counter() - started
    tool = result.tool
    if as_json:
        print_json(tool_json(core, tool.id))
    else:
        print_tool(core, tool.id)
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
    allow_outside: Annotated[
        bool, typer.Option("--allow-outside", help="Let records' 'file' point outside the JSONL's folder.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add many tools from a JSONL file (records: name, then text | file | description | url;
    optional category, type, pricing; other keys are kept as metadata).

    Example: capmatch ingest fixtures/demo.jsonl
    """
    from capmatch.llm.meter import UsageMeter
    from capmatch.pipeline.records import read_records

    core = runtime()
    if if_empty and core.catalog.tool_count() > 0:
        err.print(f"catalog already has {core.catalog.tool_count()} tools: nothing to ingest (--if-empty)")
        return
    records = list(read_records(file, extractor, allow_outside))
    added: list[str] = []
    unchanged: list[str] = []
    failures: list[dict[str, object]] = []
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
                    result = core.ingest(record.source, meter=meter)
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
                    core.record_calls(meter)
            progress.advance(task)
    summary = {"added": added, "unchanged": unchanged, "failed": failures}
    if as_json:
        print_json(summary)
    err.print(f"{len(added)} added, {len(unchanged)} unchanged, {len(failures)} failed")
    for failure in failures:
        label = f"line {failure['line']}" + (f" ({failure['name']})" if failure["name"] else "")
        err.print(f"  {label}: {failure['error']}", highlight=False, markup=False)
    if failures:
        raise typer.Exit(1)


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
    from capmatch.models import parse_pricing, parse_type
    from capmatch.storage.base import ToolFilter

    core = runtime()
    listed = core.catalog.list_tools(ToolFilter(parse_type(type), parse_pricing(pricing)), limit=10_000)
    counts = core.catalog.capability_counts([t.id for t in listed])
    if as_json:
        print_json(
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
    core = runtime()
    if as_json:
        print_json(tool_json(core, tool))
    else:
        print_tool(core, tool)


@app.command()
@handle_errors
def delete(tool: Annotated[str, typer.Argument(help="Tool id.")]) -> None:
    """Delete a tool; other tools' contrast lines and match edges are updated.

    Example: capmatch delete fetchwire
    """
    runtime().delete_tool(tool)
    err.print(f"deleted {tool}")


@app.command()
@handle_errors
def reindex(as_json: JsonOpt = False) -> None:
    """Rebuild the vector index from the vectors stored in the database.

    Example: capmatch reindex
    """
    started = time.perf_counter()
    status = runtime().reindex()
    if as_json:
        print_json({"kind": status.kind, "count": status.count, "generation": status.generation})
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
    core = runtime()
    tmp = file.with_name(file.name + ".partial")
    # Written beside the target and renamed at the end: an interrupted export never leaves a file
    # that looks complete.
    with tmp.open("w", encoding="utf-8") as out:
        tools = core.export_catalog(out)
    tmp.replace(file)
    if as_json:
        print_json({"file": str(file), "tools": tools, "bytes": file.stat().st_size})
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
    tools = runtime().import_catalog(file)
    if as_json:
        print_json({"file": str(file), "tools": tools})
    err.print(f"imported {tools} tools from {file} in {time.perf_counter() - started:.1f}s")
