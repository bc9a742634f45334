"""`capmatch bench ingest`: pipeline throughput with an LLM that answers after a fixed delay.

The OpenAI-compatible loopback server (evaluation.fake_llm) plays the model. Reported in the same
run: docs/s, per-document overhead not spent waiting for the LLM, embedding throughput in
capabilities/s, LLM tokens per tool against the raw page's tokens, and the offline extractive
backend's docs/s on the same documents.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from capmatch.embeddings.model import get_embedder
from capmatch.errors import InvalidInput
from capmatch.evaluation.fake_llm import LLMServer
from capmatch.llm.meter import UsageMeter
from capmatch.llm.tokens import count_tokens
from capmatch.pipeline.ingest import Source, capability_text
from capmatch.runtime import Runtime
from capmatch.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docs"  # the repository's demo pages


def documents(count: int, folder: Path = FIXTURES) -> list[tuple[str, str]]:
    """``count`` distinct documents (name, text): the fixture pages, each copy made unique by one
    added line so neither the content hash nor the LLM cache short-cuts the work."""
    pages = sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".html", ".rst", ".txt"))
    if not pages:
        raise InvalidInput(f"no .md, .rst, .html or .txt documents under {folder}")
    out = []
    for i in range(count):
        page = pages[i % len(pages)]
        text = page.read_text(encoding="utf-8")
        marker = f"Build {i} of this page."
        text = text.replace("</main>", f"<p>{marker}</p></main>") if page.suffix == ".html" else f"{text}\n\n{marker}\n"
        out.append((f"{page.stem}-{i}{page.suffix}", text))
    return out


def _run(core: Runtime, docs: list[tuple[str, str]], folder: Path, concurrency: int) -> tuple[float, list]:
    paths = []
    for name, text in docs:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    results: list = []
    lock = threading.Lock()
    queue = list(paths)

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            meter = UsageMeter()
            started = time.perf_counter()
            result = core.ingest(Source(path=path, name=path.stem), meter=meter)
            elapsed = time.perf_counter() - started
            waited = sum(call.duration_ms for call in meter.calls) / 1000
            with lock:
                results.append((path, elapsed, waited, meter.snapshot(), len(result.tool.capabilities)))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def bench(docs: int = 30, llm_latency: float = 0.5, concurrency: int = 4, corpus: Path = FIXTURES) -> dict[str, object]:
    embedder = get_embedder()
    texts = documents(docs, corpus)
    with LLMServer(latency=llm_latency) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        llm = Settings(
            home=folder / "llm-home",
            extractor="llm",
            openai_base_url=server.url,
            openai_api_key="bench",
            llm_model="bench-model",
            llm_concurrency=max(concurrency, 4),
            llm_requests_per_minute=100_000,
        )
        core = Runtime(llm, embedder=embedder)
        (folder / "llm-docs").mkdir()
        wall, results = _run(core, texts, folder / "llm-docs", concurrency)
        overheads = [(elapsed - waited) * 1000 for _, elapsed, waited, _, _ in results]
        tokens = [u.prompt_tokens + u.completion_tokens for _, _, _, u, _ in results]
        raw = [count_tokens(p.read_text(encoding="utf-8")) for p, *_ in results]

        extractive = Settings(home=folder / "ex-home", extractor="extractive")
        (folder / "ex-docs").mkdir()
        ex_core = Runtime(extractive, embedder=embedder)
        ex_wall, ex_results = _run(ex_core, texts, folder / "ex-docs", 1)
        # The capabilities just extracted, as the pipeline embeds them ("name: description").
        real = [
            capability_text(cap)
            for tool in ex_core.catalog.list_tools(limit=10_000)
            for cap in ex_core.catalog.get_tool(tool.id).capabilities
        ]

    sample = (real * (1000 // max(1, len(real)) + 1))[:1000]
    embedder.embed_batch(sample[:10])  # warm
    # A short distinct prefix per text so none is served from the embedding cache.
    fresh = [f"{i}. {text}" for i, text in enumerate(sample)]
    started = time.perf_counter()
    embedder.embed_batch(fresh)
    embed_s = time.perf_counter() - started
    return {
        "corpus": str(corpus),
        "docs": len(results),
        "llm_latency_s": llm_latency,
        "concurrency": concurrency,
        "llm_docs_per_s": round(len(results) / wall, 2),
        "per_doc_overhead_ms_p50": round(statistics.median(overheads), 1),
        "per_doc_overhead_ms_p99": round(sorted(overheads)[int(0.99 * (len(overheads) - 1))], 1),
        "llm_requests_per_doc": round(sum(u.requests for _, _, _, u, _ in results) / len(results), 2),
        "llm_tokens_per_tool": round(statistics.mean(tokens), 1),
        "raw_page_tokens_per_tool": round(statistics.mean(raw), 1),
        "llm_tokens_vs_raw_page": round(statistics.mean(tokens) / statistics.mean(raw), 3),
        "embedding_capabilities_per_s": round(len(fresh) / embed_s, 1),
        "extractive_docs_per_s": round(len(ex_results) / ex_wall, 2),
    }


# ---- worker processes on PostgreSQL (issue 15) ---------------------------------------------------
_TYPES = {".md": "text/markdown", ".rst": "text/x-rst", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}


class _DocsServer:
    """The documents on a loopback HTTP server: jobs name URLs, and `capmatch worker` fetches them."""

    def __init__(self, docs: list[tuple[str, str]]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        pages = {f"/{name}": text.encode() for name, text in docs}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                body = pages.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", _TYPES.get(Path(self.path).suffix, "text/plain"))
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> _DocsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()


def _sibling_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name`` (same server, user and options)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # `capmatch worker` stops on Ctrl-C
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _one_count(
    database_url: str,
    workers: int,
    docs: list[tuple[str, str]],
    warmup: list[tuple[str, str]],
    docs_url: str,
    server: LLMServer,
    worker_concurrency: int,
    folder: Path,
    timeout: float,
) -> dict[str, object]:
    """A fresh database, ``workers`` `capmatch worker` processes, every document queued at once."""
    from capmatch.models import Job
    from capmatch.storage.pg_catalog import PgCatalog
    from capmatch.storage.pg_jobs import PgJobQueue

    name = f"capmatch_bench_{os.getpid()}_{workers}w_{int(time.time())}"
    url = _sibling_database(database_url, name)
    try:
        with _admin(database_url) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:
        raise InvalidInput(
            f"could not create the benchmark database {name} beside {database_url.split('@')[-1]}: {exc} "
            "(the role needs CREATEDB; every worker count gets a fresh database, dropped afterwards)"
        ) from exc
    processes: list[subprocess.Popen[bytes]] = []
    catalog = None
    try:
        catalog = PgCatalog(url, pool_size=2, apply_migrations=True)  # `capmatch db migrate`'s code path
        jobs = PgJobQueue(catalog)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CAPMATCH_", "OPENAI_"))}
        logs = []
        for i in range(workers):
            env = dict(
                base,
                CAPMATCH_DATABASE_URL=url,
                CAPMATCH_HOME=str(folder / f"{workers}w-{i}"),  # as on its own machine
                CAPMATCH_ALLOW_PRIVATE_URLS="1",
                CAPMATCH_EXTRACTOR="llm",
                CAPMATCH_LLM_MODEL="bench-model",
                CAPMATCH_LLM_CONCURRENCY=str(max(4, 4 * worker_concurrency)),
                CAPMATCH_LLM_REQUESTS_PER_MINUTE="100000",
                OPENAI_BASE_URL=server.url,
                OPENAI_API_KEY="bench",
            )
            log = folder / f"{workers}w-{i}.log"
            logs.append(log)
            with log.open("wb") as stderr:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "capmatch.cli", "worker", "--concurrency", str(worker_concurrency)],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                    )
                )
        # Start-up (imports, the model) is not throughput: queue the documents once every worker is ready.
        deadline = time.monotonic() + timeout
        while not all("ready: claiming jobs" in log.read_text(errors="replace") for log in logs):
            dead = [p for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
                raise RuntimeError(f"a `capmatch worker` did not start ({len(dead)} exited):\n{tail}")
            time.sleep(0.1)

        def run(batch: list[tuple[str, str]]) -> list[Job]:
            ids = [jobs.submit(f"{docs_url}/{doc}", "llm", Path(doc).stem)[0].id for doc, _ in batch]
            while True:
                states = [jobs.get(job_id) for job_id in ids]
                if all(s.status.value in ("done", "failed") for s in states):
                    return states
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{workers} workers: jobs not finished after {timeout:g} s")
                time.sleep(0.05)

        # Each process's first document pays for lazy imports and its first index: one warm-up
        # document per worker (all idle, each claims one), the same number for every worker count.
        warmed = run(warmup)
        server.reset()
        cpu = _cpu_seconds(processes)
        started = time.perf_counter()
        states = run(docs)
        wall = time.perf_counter() - started
        cpu = _cpu_seconds(processes) - cpu
        done = [s for s in states if s.status.value == "done"]
        return {
            "workers": workers,
            "docs": len(states),
            "done": len(done),
            "failed": len(states) - len(done),
            "wall_s": round(wall, 2),
            "docs_per_s": round(len(done) / wall, 3),
            "workers_warmed": len({s.worker for s in warmed if s.status.value == "done"}),
            "workers_used": len({s.worker for s in done}),
            "llm_requests_per_doc": round(len(server.requests) / max(1, len(done)), 2),
            "llm_max_in_flight": server.max_in_flight,
            # CPU the worker processes used per document, and in cores while the run lasted: near the
            # cores free on the machine means CPU, not the LLM wait, bounds the throughput.
            "worker_cpu_s_per_doc": round(cpu / max(1, len(done)), 2),
            "worker_cpu_cores": round(cpu / wall, 2),
            "errors": sorted({s.error for s in states if s.error})[:3],
        }
    finally:
        for process in processes:
            _stop(process)
        if catalog is not None:
            catalog.close()
        with _admin(database_url) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def bench_workers(
    database_url: str,
    workers: list[int],
    docs: int = 24,
    llm_latency: float = 1.0,
    worker_concurrency: int = 1,
    corpus: Path = FIXTURES,
    timeout: float = 900.0,
) -> dict[str, object]:
    """Throughput with 1, 2, 4… `capmatch worker` OS processes sharing one PostgreSQL job queue, in
    one run: for each count a fresh database (migrated), the documents queued as jobs once every
    worker is ready, wall time until all are done."""
    texts = documents(docs + max(workers), corpus)
    texts, warmup = texts[:docs], texts[docs:]
    load_before = os.getloadavg()[0]
    runs = []
    with (
        LLMServer(latency=llm_latency) as server,
        _DocsServer(texts + warmup) as pages,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for count in workers:
            run = _one_count(
                database_url, count, texts, warmup, pages.url, server, worker_concurrency, Path(tmp), timeout
            )
            runs.append(run)
    base = next((r["docs_per_s"] for r in runs if r["workers"] == min(workers)), None)
    for run in runs:
        run[f"vs_{min(workers)}_worker"] = round(run["docs_per_s"] / base, 2) if base else None  # type: ignore[operator]
    return {
        "corpus": str(corpus),
        "docs": len(texts),
        "llm_latency_s": llm_latency,
        "worker_concurrency": worker_concurrency,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "runs": runs,
    }
