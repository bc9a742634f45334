"""Queries: similar tools, search by need, compare two tools."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape as esc
from rich.table import Table

from capmatch.cli.common import JsonOpt, KOpt, app, handle_errors, out, print_json, runtime


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

    from capmatch.models import parse_pricing, parse_type
    from capmatch.storage.base import ToolFilter

    hits = runtime().similar(tool, k, ToolFilter(parse_type(type), parse_pricing(pricing)))
    if as_json:
        print_json({"tool_id": tool, "k": k, "results": [asdict(h) for h in hits]})
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

    from capmatch.models import parse_pricing, parse_type
    from capmatch.storage.base import ToolFilter

    hits = runtime().search(text, k, ToolFilter(parse_type(type), parse_pricing(pricing)))
    if as_json:
        print_json({"query": text, "k": k, "results": [asdict(h) for h in hits]})
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
    from capmatch.matching.render import comparison_markdown

    if format not in ("markdown", "json"):
        raise InvalidInput(f"unknown format {format!r}: use markdown or json")
    comparison = runtime().compare(a, b)
    if format == "json":
        print_json(comparison.model_dump(mode="json"))
    else:
        sys.stdout.write(comparison_markdown(comparison))
