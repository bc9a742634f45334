"""`capmatch bench search`: the vector index at scale against the numpy brute force a user would write.

Synthetic clustered unit vectors stand in for a large catalog's capabilities (real capability
embeddings form topical clusters too); real MiniLM embeddings of capability-style queries are
searched alongside synthetic ones. Reported in the same run: build time, memory, query latency
p50/p99 (excluding query embedding), recall@10 against exact search, and the same for brute force.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

import numpy as np

from capmatch.embeddings import index as vector_index
from capmatch.embeddings.model import get_embedder
from capmatch.settings import Settings

REAL_QUERIES = [
    "retry failed background jobs",
    "approximate nearest neighbour search over embeddings",
    "detect hate speech in user comments",
    "HTTP/2 client with connection pooling",
    "validate JSON against a schema",
    "structured output from a language model",
    "deduplicate source code files",
    "schedule periodic tasks",
    "stream large downloads",
    "per-category safety scores",
]


def rss_mb() -> float:
    """Resident memory now, from /proc (FAISS allocates outside Python's allocators)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def clustered(n: int, centres: np.ndarray, rng: np.random.Generator, spread: float = 0.6) -> np.ndarray:
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        labels = rng.integers(0, len(centres), m)
        block = centres[labels] + spread * rng.standard_normal((m, centres.shape[1]), dtype=np.float32) / np.sqrt(
            centres.shape[1]
        )
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def bench(vectors: int, queries: int = 500, k: int = 10, settings: Settings | None = None) -> dict[str, object]:
    settings = settings or Settings()
    embedder = get_embedder(settings.embedding_model)
    dim = embedder.dimension
    rng = np.random.default_rng(42)
    centres = rng.standard_normal((max(64, vectors // 250), dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    matrix = clustered(vectors, centres, rng)
    ids = np.arange(vectors, dtype=np.int64)
    real = embedder.embed_batch(REAL_QUERIES)
    synthetic = clustered(max(0, queries - len(real)), centres, rng)
    query_set = np.vstack([real, synthetic])[:queries]

    kind = vector_index.choose_kind(vectors, settings.index_type, settings.ivf_threshold)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = vector_index.build(kind, ids, matrix, dim, settings.ivf_nprobe)
    build_s = time.perf_counter() - started
    index_mb = rss_mb() - before

    latencies, found = [], []
    for q in query_set:
        t = time.perf_counter()
        _, hit = index.search(q[None, :], k)
        latencies.append((time.perf_counter() - t) * 1000)
        found.append(hit[0])
    brute_latencies, exact = [], []
    for q in query_set:
        t = time.perf_counter()
        scores = matrix @ q
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top])]
        brute_latencies.append((time.perf_counter() - t) * 1000)
        exact.append(top)
    recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact, strict=True)]))
    real_recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found[: len(real)], exact, strict=False)]))
    p50, p99 = _percentiles(latencies)
    b50, b99 = _percentiles(brute_latencies)
    return {
        "vectors": vectors,
        "dimension": dim,
        "index": kind,
        "nprobe": settings.ivf_nprobe if kind == "ivf" else None,
        "build_seconds": round(build_s, 2),
        "index_memory_mb": round(index_mb, 1),
        "query_p50_ms": round(p50, 3),
        "query_p99_ms": round(p99, 3),
        "recall_at_10": round(recall, 4),
        "recall_at_10_real_queries": round(real_recall, 4),
        "brute_force_p50_ms": round(b50, 3),
        "brute_force_p99_ms": round(b99, 3),
        "speedup_vs_brute_force": round(b50 / p50, 1) if p50 else None,
        "queries": len(query_set),
    }
