"""`capmatch bench ingest`: pipeline throughput with an LLM that answers after a fixed delay.

The OpenAI-compatible loopback server (evaluation.fake_llm) plays the model. Reported in the same
run: docs/s, per-document overhead not spent waiting for the LLM, embedding throughput in
capabilities/s, LLM tokens per tool against the raw page's tokens, and the offline extractive
backend's docs/s on the same documents.
"""

from __future__ import annotations

import statistics
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
