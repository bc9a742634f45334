"""`capmatch bench search`: the vector index at scale against the numpy brute force a user would write.

Two catalogs: "real", the MiniLM vectors of vendor-docs README sentences plus perturbations of
them up to the size, queried with held-out real sentences and capability-style queries; and
"synthetic", clustered unit vectors queried with synthetic vectors and the same few real queries.
Reported in the same run: build time, memory, query latency p50/p99 (excluding query embedding),
recall@10 against exact search, and the same for brute force.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

import faiss
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


def real_sentences(corpus: Path, limit: int = 2500) -> list[str]:
    from capmatch.evaluation.bench_embed import corpus_sentences, pages_in

    return corpus_sentences(pages_in(corpus), limit)


def real_based(
    base: np.ndarray, n: int, rng: np.random.Generator, spread: tuple[float, float] = (0.3, 0.9)
) -> np.ndarray:
    """``n`` unit vectors: the real MiniLM vectors ``base`` first, then perturbations of them (a
    random real vector plus Gaussian noise of a random norm in ``spread``), so the catalog keeps the
    shape of real capability embeddings (their topics, their hubs) at any scale."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    head = min(n, len(base))
    out[:head] = base[:head]
    step = 100_000
    for start in range(head, n, step):
        m = min(step, n - start)
        origin = base[rng.integers(0, len(base), m)]
        scale = rng.uniform(*spread, size=(m, 1)).astype(np.float32) / np.sqrt(base.shape[1])
        block = origin + scale * rng.standard_normal((m, base.shape[1]), dtype=np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def payload_mb(index: vector_index.VectorIndex) -> float:
    """Bytes the index holds for its vectors: codes and ids in the lists, plus the coarse centroids."""
    raw = index.faiss_index()
    if isinstance(raw, faiss.IndexIVF):
        lists = raw.invlists
        assert lists is not None
        codes = sum(int(lists.list_size(i)) for i in range(raw.nlist)) * (raw.code_size + 8)
        return round((codes + raw.nlist * raw.d * 4) / 2**20, 1)
    return round(raw.ntotal * (index.dimension * 4 + 8) / 2**20, 1)


def bench(
    vectors: int,
    queries: int = 500,
    k: int = 10,
    settings: Settings | None = None,
    data: str = "real",
    encoding: str = vector_index.DEFAULT_IVF_ENCODING,
) -> dict[str, object]:
    """One index of ``vectors`` rows; ``data`` "real": the catalog is built from real MiniLM vectors of
    vendor-docs README sentences (and perturbations of them to reach the size) and queried with
    held-out real sentences; "synthetic": clustered random unit vectors, queried with synthetic
    vectors and a few real queries."""
    settings = settings or Settings()
    embedder = get_embedder(settings.embedding_model)
    dim = embedder.dimension
    rng = np.random.default_rng(42)
    real = embedder.embed_batch(REAL_QUERIES)
    if data == "real":
        sentences = real_sentences(settings.shared_data / "vendor-docs", min(2500, max(250, vectors // 10)))
        held_out = sentences[::5]  # one sentence in five is a query, never in the catalog
        base = embedder.embed_batch([t for i, t in enumerate(sentences) if i % 5])
        matrix = real_based(base, vectors, rng)
        query_set = np.vstack([real, embedder.embed_batch(held_out)])[:queries]
    elif data == "synthetic":
        centres = rng.standard_normal((max(64, vectors // 250), dim), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        matrix = clustered(vectors, centres, rng)
        synthetic = clustered(max(0, queries - len(real)), centres, rng)
        query_set = np.vstack([real, synthetic])[:queries]
    else:
        raise ValueError(f"unknown data {data!r}: real or synthetic")
    ids = np.arange(vectors, dtype=np.int64)

    kind = vector_index.choose_kind(vectors, settings.index_type, settings.ivf_threshold)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = vector_index.build(kind, ids, matrix, dim, settings.ivf_nprobe, encoding=encoding)
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
    recalls = [len(set(a) & set(b)) / k for a, b in zip(found, exact, strict=True)]
    p50, p99 = _percentiles(latencies)
    b50, b99 = _percentiles(brute_latencies)
    return {
        "vectors": vectors,
        "data": data,
        "dimension": dim,
        "index": kind,
        "encoding": encoding if kind == "ivf" else None,
        "nprobe": settings.ivf_nprobe if kind == "ivf" else None,
        "build_seconds": round(build_s, 2),
        "index_memory_mb": round(index_mb, 1),
        "index_payload_mb": payload_mb(index),
        "query_p50_ms": round(p50, 3),
        "query_p99_ms": round(p99, 3),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "recall_at_10_min": round(float(np.min(recalls)), 2),
        "recall_at_10_real_queries": round(float(np.mean(recalls[: len(real)])), 4),
        "brute_force_p50_ms": round(b50, 3),
        "brute_force_p99_ms": round(b99, 3),
        "speedup_vs_brute_force": round(b50 / p50, 1) if p50 else None,
        "queries": len(query_set),
    }
