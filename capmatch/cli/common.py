"""What every command group shares: the app, the consoles, options, error handling, printing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from capmatch.errors import CapmatchError
from capmatch.runtime import Runtime
from capmatch.settings import get_settings

app = typer.Typer(
    name="capmatch",
    help="Grounded capability extraction, similar-tool search and comparisons.",
    no_args_is_help=True,
    add_completion=False,
)


def _console(stderr: bool) -> Console:
    # Piped output is read by programs and pagers: no truncated table columns, no hard line wraps
    # in the middle of a sentence or a URL. A terminal keeps rich's own layout.
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, soft_wrap=True, width=None if stream.isatty() else 10_000)


out = _console(stderr=False)
err = _console(stderr=True)
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


def runtime() -> Runtime:
    return Runtime(get_settings())


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def tool_json(core: Runtime, tool_id: str) -> dict[str, Any]:
    from capmatch.api.schemas import ToolPublic

    tool = core.catalog.get_tool(tool_id)
    return ToolPublic.of(tool, core.rank(tool)).model_dump(mode="json")


def bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def staged(progress: Progress) -> Callable[[str, int, int], None]:
    """A ``(stage, done, total)`` callback drawing one bar per stage on ``progress``: the shape every
    evaluation reports its progress in."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done)

    return report


def print_report(result: dict[str, Any], title: str, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    table = Table("measure", "value", title=title)
    for key, value in result.items():
        table.add_row(key, str(value))
    out.print(table)


def stage_progress() -> Any:
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


def print_tool(core: Runtime, tool_id: str) -> None:
    # Vendor text is printed with markup off: "list[int]" or "[/bold]" in a page must print as is.
    tool = core.catalog.get_tool(tool_id)
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
