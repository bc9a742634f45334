"""`capmatch eval` and `capmatch bench`: quality on labelled data, speed against baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID
from rich.table import Table

from capmatch.cli.common import JsonOpt, KOpt, app, bar, err, handle_errors, out, print_json, print_report

eval_app = typer.Typer(help="Measure quality on labelled data.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed and memory against naive baselines.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


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

    with bar() as progress:
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
        print_json(methods)
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
    as_json: JsonOpt = False,
) -> None:
    """Vector search at N capability vectors: build time, memory, p50/p99, recall@10, and the numpy
    brute force in the same run.

    Example: capmatch bench search --vectors 100000 --vectors 1000000 --json
    """
    from capmatch.evaluation.bench_search import bench

    sizes = vectors or [100_000, 1_000_000]
    results = []
    for n in sizes:
        err.print(f"benchmarking search at {n} vectors…")
        results.append(bench(n, queries))
    if as_json:
        print_json(results if len(results) > 1 else results[0])
        return
    keys = [
        "vectors",
        "index",
        "build_seconds",
        "index_memory_mb",
        "query_p50_ms",
        "query_p99_ms",
        "recall_at_10",
        "brute_force_p50_ms",
        "speedup_vs_brute_force",
    ]
    table = Table(*keys, title="capmatch bench search")
    for row in results:
        table.add_row(*(str(row[key]) for key in keys))
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
    print_report(result, "capmatch bench ingest", as_json)


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
    print_report(result, "capmatch bench api", as_json)
