"""`capmatch bench api`: end-to-end latency of /api/search (query embedding included) and
/api/compare over HTTP, on a synthetic catalog of N tools served by a real uvicorn server."""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from capmatch.evaluation.bench_search import REAL_QUERIES
from capmatch.evaluation.synthetic import fill
from capmatch.runtime import Runtime
from capmatch.settings import Settings


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _latencies(client: httpx.Client, paths: list[str]) -> tuple[float, float]:
    samples = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def bench(tools: int, requests: int = 300, home: Path | None = None) -> dict[str, object]:
    from capmatch.app import create_app

    with tempfile.TemporaryDirectory(prefix="capmatch-bench-") as tmp:
        settings = Settings(home=home or Path(tmp))
        core = Runtime(settings)
        if core.catalog.tool_count() < tools:
            started = time.perf_counter()
            fill(core, tools - core.catalog.tool_count())
            filled = time.perf_counter() - started
        else:
            filled = 0.0
        port = _port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for _ in range(300):
                    try:
                        if client.get("/api/health").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                client.get("/api/search", params={"q": "warm up"})
                # Every query is new text, so each request pays for its own embedding.
                search = [f"/api/search?q={REAL_QUERIES[i % len(REAL_QUERIES)]} {i}&k=10" for i in range(requests)]
                s50, s99 = _latencies(client, search)
                pairs = [f"/api/compare/synthetic-{i}/synthetic-{i + 1}" for i in range(0, min(tools - 1, 200), 2)]
                _latencies(client, pairs[:20])  # warm
                c50, c99 = _latencies(client, [pairs[i % len(pairs)] for i in range(requests)])
        finally:
            server.should_exit = True
            thread.join(10)
    return {
        "tools": tools,
        "catalog_fill_seconds": round(filled, 1),
        "search_p50_ms": round(s50, 2),
        "search_p99_ms": round(s99, 2),
        "compare_p50_ms": round(c50, 2),
        "compare_p99_ms": round(c99, 2),
        "requests": requests,
    }
