"""`capmatch eval` and `capmatch bench`: quality on labelled data, speed against baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from capmatch.cli.common import JsonOpt, KOpt, app, bar, err, handle_errors, out, print_json, print_report, staged
from capmatch.errors import InvalidInput

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
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Keep the built catalog in this folder and reuse it on the next run."),
    ] = None,
    per_category: Annotated[
        int | None, typer.Option("--per-category", help="Keep the first N records of each category (quicker).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score similar-tool search on labelled data (relevant = same category) against BM25 and
    whole-text embedding, in the same run, in a temporary catalog.

    Example: capmatch eval similar --dataset ../shared/data/vendor-docs/index.jsonl --json
    """
    from capmatch.evaluation.similar import evaluate

    with bar() as progress:
        report = staged(progress)

        result = evaluate(dataset, k=k, extractor=extractor, progress=report, home=home, per_category=per_category)
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


@eval_app.command("fusion")
@handle_errors
def eval_fusion(
    datasets: Annotated[list[Path], typer.Option("--dataset", help="Labelled JSONL; repeat for every set.")],
    home_root: Annotated[
        Path, typer.Option("--home-root", help="Folder for one reusable catalog per set (built on first use).")
    ],
    per_category: Annotated[
        int | None, typer.Option("--per-category", help="Keep the first N records of each category (quicker).")
    ] = None,
    k: KOpt = 10,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the report (JSON) here.")] = None,
) -> None:
    """Choose the similar-tool fusion weights by leave-one-set-out cross-validation over the given
    labelled sets, and report each fold (weights chosen without the set, scores on it).

    Example: capmatch eval fusion --dataset ../shared/data/vendor-docs/index.jsonl
             --dataset ../shared/data/awesome-python.jsonl --home-root /tmp/capmatch-eval
    """
    import json

    from capmatch.evaluation.fusion import fit

    with bar() as progress:
        report = staged(progress)

        result = fit(datasets, home_root, k=k, progress=report, per_category=per_category)
    if out_file is not None:
        out_file.write_text(json.dumps(result, indent=1) + "\n")
    print_json(result)


@eval_app.command("admit")
@handle_errors
def eval_admit(
    gold: Annotated[list[Path], typer.Option("--gold", help="Gold JSONL (fixtures/gold); repeat for several.")],
    write: Annotated[
        bool, typer.Option("--write", help="Write the model the package ships (admit_model.json).")
    ] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the report (JSON) here.")] = None,
) -> None:
    """Train the extractive decomposer's candidate admission model on gold pages, with
    cross-validation by page choosing the threshold; report P/R with and without it.

    Example: capmatch eval admit --gold fixtures/gold/vendor-docs.jsonl --gold fixtures/gold/demo.jsonl
    """
    import json

    from capmatch.embeddings.model import get_embedder
    from capmatch.evaluation.admit import train
    from capmatch.extractor.decompose.admit import MODEL_FILE
    from capmatch.settings import Settings

    settings = Settings()
    with bar() as progress:
        report = staged(progress)

        model, result = train(gold, get_embedder(settings.embedding_model), settings, progress=report)
    if write:
        MODEL_FILE.write_text(model.to_json() + "\n")
        result["written"] = str(MODEL_FILE)
    if out_file is not None:
        out_file.write_text(json.dumps(result, indent=1) + "\n")
    print_json(result)


@eval_app.command("search")
@handle_errors
def eval_search(
    datasets: Annotated[list[Path], typer.Option("--dataset", help="Labelled JSONL; repeat for several sets.")],
    home_root: Annotated[
        Path | None, typer.Option("--home-root", help="Folder for one reusable catalog per set (built on first use).")
    ] = None,
    per_category: Annotated[
        int | None, typer.Option("--per-category", help="Keep the first N records of each category (quicker).")
    ] = None,
    k: KOpt = 10,
    fit_weights: Annotated[
        bool, typer.Option("--fit", help="Also choose the hybrid weights by leave-one-set-out over the sets.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Free-text search on queries built from the sets' category names (relevant = that category):
    hybrid, vector-only and lexical-only side by side with BM25 and whole-text embedding baselines,
    and the search floor that best separates relevant hits.

    Example: capmatch eval search --dataset ../shared/data/awesome-python.jsonl
    """
    from capmatch.evaluation.search import evaluate as evaluate_search

    with bar() as progress:
        report = staged(progress)

        result = evaluate_search(
            datasets, home_root, k=k, progress=report, per_category=per_category, fit_weights=fit_weights
        )
    if as_json:
        print_json(result)
        return
    for name, methods in result["sets"].items():  # type: ignore[attr-defined]
        table = Table("method", "P@1", "P@5", "MRR", "nDCG@10", "queries", title=f"search: {name}")
        for method, values in methods.items():
            table.add_row(method, *(str(values[m]) for m in ("P@1", "P@5", "MRR", "nDCG@10", "queries")))
        out.print(table)
    chosen = result["floor"]["chosen"]  # type: ignore[index]
    out.print(f"search floor by F1 over {result['floor']['hits']} hits: {chosen}")  # type: ignore[index]


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
        print_json(results if len(results) > 1 else results[0])
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


@bench_app.command("ingest")
@handle_errors
def bench_ingest(
    docs: Annotated[int | None, typer.Option(help="Documents to ingest [default: 30; 24 with --workers].")] = None,
    llm_latency: Annotated[
        float | None,
        typer.Option(help="Seconds the loopback LLM waits before each answer [default: 0.5; 1 with --workers]."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Documents ingested at once (threads of this process).")] = 4,
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of .md/.rst/.html/.txt pages to use instead of fixtures/docs.")
    ] = None,
    workers: Annotated[
        list[int] | None,
        typer.Option(
            "--workers",
            min=1,
            help="Run the documents through this many `capmatch worker` processes on PostgreSQL; repeat "
            "to compare counts in one run (needs --database-url).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="postgresql://… server for --workers: each count gets a fresh database there (CREATEDB "
            "needed), dropped afterwards; the named database itself is not touched."
        ),
    ] = None,
    worker_concurrency: Annotated[int, typer.Option(min=1, help="Jobs each worker process runs at once.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Ingest throughput with a loopback OpenAI-compatible LLM answering after a fixed delay, and the
    extractive backend on the same documents. With --workers: throughput of 1, 2, 4… worker
    processes sharing a PostgreSQL job queue, in one run, as docs/s and a ratio to the fewest.

    Example: capmatch bench ingest --docs 30 --llm-latency 0.5 --concurrency 4 --json
    Example: capmatch bench ingest --workers 1 --workers 2 --workers 4 --database-url postgresql://postgres@/postgres
    """
    from capmatch.evaluation.bench_ingest import FIXTURES, bench, bench_workers

    if not workers:
        result = bench(docs or 30, 0.5 if llm_latency is None else llm_latency, concurrency, corpus or FIXTURES)
        print_report(result, "capmatch bench ingest", as_json)
        return
    if not database_url or not database_url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput(
            "--workers needs --database-url postgresql://… (a server where a fresh database can be created "
            "for each worker count; e.g. a local one: initdb, pg_ctl start, then postgresql://postgres@/postgres)"
        )
    err.print(f"benchmarking ingestion with {', '.join(map(str, workers))} worker processes…")
    report = bench_workers(
        database_url,
        workers,
        docs or 24,
        1.0 if llm_latency is None else llm_latency,
        worker_concurrency,
        corpus or FIXTURES,
    )
    if as_json:
        print_json(report)
        return
    runs: list[dict[str, Any]] = report["runs"]  # type: ignore[assignment]
    ratio = next(key for key in runs[0] if key.startswith("vs_"))
    keys = ["workers", "docs", "done", "failed", "wall_s", "docs_per_s", ratio, "llm_requests_per_doc", "workers_used"]
    keys += ["worker_cpu_s_per_doc", "worker_cpu_cores"]
    table = Table(*keys, title=f"capmatch bench ingest (LLM latency {report['llm_latency_s']} s)")
    for run in runs:
        table.add_row(*(str(run[key]) for key in keys))
    out.print(table)
    err.print(f"load (1 min): {report['load_1min_before']} before, {report['load_1min_after']} after", markup=False)


@bench_app.command("tokens")
@handle_errors
def bench_tokens(
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of .md/.rst/.html/.txt pages [default: vendor-docs].")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """LLM prompt tokens per tool against the raw page's tokens (median, p90), with and without the
    contrast request, counted offline from the requests capmatch would send; nothing is sent.

    Example: capmatch bench tokens --corpus ../shared/data/vendor-docs --json
    """
    from capmatch.evaluation.bench_tokens import bench
    from capmatch.settings import get_settings

    settings = get_settings()
    folder = corpus or settings.shared_data / "vendor-docs"
    err.print(f"estimating the prompt tokens of every page of {folder} ({settings.llm_mode} mode)…")
    print_report(bench(folder, settings), "capmatch bench tokens", as_json)


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
    from capmatch.settings import get_settings

    folder = corpus or get_settings().shared_data / "vendor-docs"
    backends = ("torch", "onnx", "onnx-int8") if int8 else ("torch", "onnx")
    err.print(f"embedding {texts} sentences of {folder} with {', '.join(backends)}, {runs} runs each…")
    print_report(bench(folder, texts, runs, backends), "capmatch bench embed", as_json)


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


@bench_app.command("writes")
@handle_errors
def bench_writes(
    vectors: Annotated[int, typer.Option(help="Synthetic catalog size in capability vectors.")] = 100_000,
    writes: Annotated[int, typer.Option(help="Tools written (5 vectors each) after the catalog is filled.")] = 20,
    home: Annotated[Path | None, typer.Option(help="Keep (and reuse) the synthetic catalog here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bytes one write costs at N vectors (a delta of change rows, not a whole-index rewrite), the
    whole index file it used to rewrite, and how soon another Runtime sees it.

    Example: capmatch bench writes --vectors 100000 --json
    """
    from capmatch.evaluation.bench_writes import bench

    print_report(bench(vectors, writes, home), "capmatch bench writes", as_json)


@eval_app.command("extract")
@handle_errors
def eval_extract(
    gold: Annotated[Path, typer.Option("--gold", help="Gold JSONL (fixtures/gold/*.jsonl; see its README).")],
    extractor: Annotated[str, typer.Option(help="Decomposer to score: extractive or llm.")] = "extractive",
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="Score only this gold tool; repeat for several.")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            help="Score only the pages this folder of replayed answers covers (fixtures/replay); with "
            "--extractor llm, a loopback replay server serves those answers as the LLM."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a decomposer's capabilities against hand-made gold capabilities: precision, recall,
    core recall, traps taken, name quality, duplicates, time per page; per tool and overall. With
    --replay and --extractor llm, also how grounding treated the replayed answers (replayed figures,
    not a model's skill).

    Example: capmatch eval extract --gold fixtures/gold/vendor-docs.jsonl --json
    Example: capmatch eval extract --gold fixtures/gold/vendor-docs.jsonl --replay fixtures/replay --extractor llm
    """
    import tempfile
    from contextlib import ExitStack

    from capmatch.evaluation.extract import evaluate, load_gold
    from capmatch.evaluation.replay import GroundingTally, answered_tools, replayed
    from capmatch.extractor.decompose import get_decomposer, resolve_backend
    from capmatch.runtime import Runtime
    from capmatch.settings import get_settings

    with ExitStack() as stack:
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="capmatch-eval-"))
        settings = get_settings().model_copy(update={"home": Path(home)})
        backend, _ = resolve_backend(extractor, settings)
        tools = list(tool or [])
        tally = None
        if replay is not None:
            tools = tools or answered_tools(replay, load_gold(gold, settings.shared_data), settings.shared_data)
            if backend == "llm":
                settings, server = stack.enter_context(replayed(settings, replay))
                tally = GroundingTally(server)
                err.print(f"replaying the answers in {replay} from {server.url} (replayed, not a model's skill)")
        progress = stack.enter_context(bar())
        core = Runtime(settings)  # a throwaway catalog: the LLM backend keeps its answer cache there
        decomposer = get_decomposer(backend, core.embedder, settings, core.catalog)
        report = staged(progress)

        result = evaluate(
            gold,
            decomposer,
            core.embedder,
            settings,
            progress=report,
            tools=tools or None,
            observe=tally.observe if tally else None,
        )
        if tally is not None:
            result["replay"] = tally.report()
    if as_json:
        print_json(result)
        return
    table = Table(
        "tool",
        "produced",
        "gold",
        "precision",
        "recall",
        "core recall",
        "traps",
        "names",
        "dups",
        "s",
        title=f"{gold}: {extractor} ({result['extractor_version']})",
    )
    for row in result["per_tool"]:
        table.add_row(
            row["tool"],
            str(row["produced"]),
            str(row["gold"]),
            f"{row['precision']:.2f}",
            f"{row['recall']:.2f}",
            f"{row['core_recall']:.2f}",
            str(row["traps_taken"]),
            f"{row['name_quality']:.2f}",
            str(row["duplicates"]),
            f"{row['seconds']:.2f}",
        )
    out.print(table)
    out.print(
        f"overall: precision {result['precision']:.3f}, recall {result['recall']:.3f}, core recall "
        f"{result['core_recall']:.3f}, traps taken {result['traps_taken']}, name quality {result['name_quality']:.3f}, "
        f"duplicates {result['duplicates']}, {result['seconds_per_page']:.2f} s/page",
        highlight=False,
    )
    if "replay" in result:
        grounding = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["replay"]["grounding"].items())
        out.print(
            f"grounding of replayed answers (not a model's skill): {grounding}; {result['replay']['requests']} "
            f"requests, {result['replay']['reasks']} re-asks, {result['usage']['prompt_tokens']} prompt + "
            f"{result['usage']['completion_tokens']} completion tokens (the server's counts)",
            highlight=False,
        )
    thresholds = ", ".join(f"{k} {v}" for k, v in result["thresholds"].items())
    err.print(f"thresholds: {thresholds}", markup=False)


@eval_app.command("contrast")
@handle_errors
def eval_contrast(
    datasets: Annotated[
        list[Path],
        typer.Option("--dataset", help="Labelled JSONL in the ingest format (with category); repeat to pool."),
    ],
    lines: Annotated[
        Path | None,
        typer.Option("--lines", help="Write every capability's Unique / vs alternatives lines here (JSONL)."),
    ] = None,
    min_precision: Annotated[float, typer.Option(help="Precision the reported threshold must reach.")] = 0.8,
    extractor: Annotated[str, typer.Option(help="Decomposer for the temporary catalog.")] = "extractive",
    as_json: JsonOpt = False,
) -> None:
    """Calibrate the contrast thresholds on labelled data (comparable = same category), pooled over
    the data sets, each in its own temporary catalog: capability similarity (ALTERNATIVE_MIN) and
    tool identity similarity (IDENTITY_MIN). With --lines, dump every capability's lines for grading.

    Example: capmatch eval contrast --dataset fixtures/demo.jsonl --dataset ../shared/data/vendor-docs/index.jsonl
    """
    import json

    from capmatch.evaluation.contrast import (
        calibrate,
        candidate_pairs,
        dump_lines,
        identity_pairs,
        labelled_catalog,
    )

    capability: list[tuple[float, bool]] = []
    identity: list[tuple[float, bool]] = []
    rows: list[dict[str, object]] = []
    with bar() as progress:
        report = staged(progress)

        for dataset in datasets:
            with labelled_catalog(dataset, extractor, progress=report) as (core, categories):
                capability += candidate_pairs(core, categories)
                identity += identity_pairs(core, categories)
                rows += [{"dataset": str(dataset), **row} for row in dump_lines(core, categories)]
    if lines is not None:
        with lines.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        err.print(f"{len(rows)} capabilities' lines written to {lines}", markup=False)
    results = {
        "capability pairs (ALTERNATIVE_MIN)": calibrate(capability, min_precision),
        "tool identity pairs (IDENTITY_MIN)": calibrate(identity, min_precision),
    }
    if as_json:
        print_json({name: {k: v for k, v in r.items() if k != "table"} for name, r in results.items()})
        return
    table = Table(
        "pairs", "choice", "threshold", "precision", "recall", "F1", "F0.5", "kept", title="contrast thresholds"
    )
    for name, result in results.items():
        choices = (
            ("best F1", result["best_f1"]),
            ("best F0.5 (used)", result["best_f0.5"]),
            (f"precision ≥ {min_precision}", result["at_min_precision"]),
        )
        for label, row in choices:
            if row is not None:
                figures = (f"{row[m]:.2f}" for m in ("threshold", "precision", "recall", "f1", "f0.5"))
                table.add_row(f"{name}: {result['pairs']}", label, *figures, str(row["kept"]))
    out.print(table)
