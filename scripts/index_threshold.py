"""Measure where exact (flat) search stops being fast enough and IVF takes over.

Usage: .venv/bin/python scripts/index_threshold.py [N ...]

For each catalog size N (capability vectors, d=384, clustered like real capability embeddings)
it times a similar-tools style query (15 vectors, k=64) against a flat index and an IVF index
(nlist ~ 4·sqrt(N), nprobe from settings), and reports IVF recall@10 against exact search.
The flat->IVF switch (CAPMATCH_IVF_THRESHOLD) is set where flat latency passes the budget.
"""

from __future__ import annotations

import statistics
import sys
import time

import faiss
import numpy as np

from capmatch.embeddings import index as vector_index
from capmatch.settings import Settings

DIM, QUERY_BATCH, K = 384, 15, 64


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    labels = rng.integers(0, len(centres), n)
    vectors = centres[labels] + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32) / np.sqrt(DIM)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def timed(index: vector_index.VectorIndex, queries: np.ndarray, repeats: int = 30) -> tuple[float, np.ndarray]:
    times, ids = [], None
    for i in range(repeats):
        batch = queries[(i * QUERY_BATCH) % len(queries) :][:QUERY_BATCH]
        start = time.perf_counter()
        _, ids = index.search(batch, K)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), ids  # type: ignore[return-value]


def main(sizes: list[int]) -> None:
    faiss.omp_set_num_threads(2)
    settings = Settings()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    print(f"{'N':>8} {'flat p50 ms':>12} {'ivf p50 ms':>11} {'ivf recall@10':>14} {'ivf build s':>12}")
    for n in sizes:
        vectors = clustered(n, rng, centres)
        ids = np.arange(n, dtype=np.int64)
        queries = clustered(QUERY_BATCH * 30, rng, centres)
        flat = vector_index.build("flat", ids, vectors, DIM)
        start = time.perf_counter()
        ivf = vector_index.build("ivf", ids, vectors, DIM, settings.ivf_nprobe)
        build = time.perf_counter() - start
        flat_ms, _ = timed(flat, queries)
        ivf_ms, _ = timed(ivf, queries)
        _, exact = flat.search(queries, 10)
        _, approx = ivf.search(queries, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
        print(f"{n:>8} {flat_ms:>12.2f} {ivf_ms:>11.2f} {recall:>14.3f} {build:>12.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [5_000, 20_000, 50_000, 100_000, 200_000])
