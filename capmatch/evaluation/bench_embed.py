"""`capmatch bench embed`: capability texts per second, PyTorch against ONNX Runtime in the same run.

The texts are real: the sentences of the vendor READMEs in ``../shared/data/vendor-docs`` (or any
folder of .md/.rst/.html/.txt pages), cleaned and split as ingestion does. Each backend embeds the
same texts, uncached, three times; the median is reported, with the cosine agreement of each
backend to PyTorch (the reference) on those texts.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from capmatch.extractor.clean import clean
from capmatch.extractor.fetch import EXTENSIONS
from capmatch.extractor.segment import segment, sentences

PROSE = ("paragraph", "bullet", "heading")


def page_sentences(path: Path, min_chars: int = 20, max_chars: int = 600) -> list[str]:
    """The sentences of one page, as ingestion sees them (cleaned, segmented; code and tables left out)."""
    fmt = EXTENSIONS.get(path.suffix.lower(), "text")
    document = clean(path.read_text(encoding="utf-8", errors="replace"), fmt)
    out = []
    for block in segment(document.text):
        if block.kind not in PROSE:
            continue
        for span in sentences(block.span):
            text = " ".join(span.text.split())
            if min_chars <= len(text) <= max_chars and sum(c.isalpha() for c in text) >= len(text) / 2:
                out.append(text)
    return out


def corpus_sentences(paths: Iterable[Path], limit: int | None = None) -> list[str]:
    """Distinct sentences of the pages, in page order, at most ``limit``."""
    seen: dict[str, None] = {}
    for path in sorted(paths):
        for text in page_sentences(path):
            seen.setdefault(text, None)
            if limit and len(seen) >= limit:
                return list(seen)
    return list(seen)


def pages_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS]


def _throughput(
    encode: Callable[[list[str]], np.ndarray], texts: list[str], runs: int
) -> tuple[float, float, np.ndarray]:
    """Median texts per wall-clock second, and per CPU-second of this process (all its threads):
    the second tells the encoders apart even when other processes share the cores."""
    encode(texts[:16])  # warm: first-call allocations and thread pools
    rates, cpu_rates, vectors = [], [], np.empty(0)
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        vectors = encode(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
        cpu_rates.append(len(texts) / max(time.process_time() - cpu_started, 1e-9))
    return statistics.median(rates), statistics.median(cpu_rates), vectors


def bench(
    corpus: Path, texts: int = 1000, runs: int = 3, backends: tuple[str, ...] = ("torch", "onnx")
) -> dict[str, object]:
    from capmatch.embeddings.model import CachedEmbedder, get_embedder
    from capmatch.embeddings.onnx import available_cores
    from capmatch.settings import get_settings

    sample = corpus_sentences(pages_in(corpus), texts)
    if not sample:
        raise ValueError(f"no sentences found in {corpus}")
    result: dict[str, object] = {
        "corpus": str(corpus),
        "texts": len(sample),
        "mean_chars": round(statistics.mean(len(t) for t in sample), 1),
        "runs": runs,
        "cores": available_cores(),
        "load_average_1m_before": round(os.getloadavg()[0], 2),
    }
    vectors: dict[str, np.ndarray] = {}
    for backend in backends:
        if backend == "onnx-int8":  # measured only: not an option of the service (see embeddings/onnx.py)
            from capmatch.embeddings.onnx import OnnxEmbedder

            embedder: CachedEmbedder = OnnxEmbedder(get_settings().embedding_model, quantize=True)
        else:
            embedder = get_embedder(get_settings().embedding_model, backend=backend)
        # _encode bypasses the embedding cache, so every run encodes every text.
        rate, cpu_rate, vectors[backend] = _throughput(embedder._encode, sample, runs)
        result[f"{backend.replace('-', '_')}_texts_per_s"] = round(rate, 1)
        result[f"{backend.replace('-', '_')}_texts_per_cpu_s"] = round(cpu_rate, 1)
    if "torch" in vectors:
        for backend, matrix in vectors.items():
            if backend == "torch":
                continue
            name = backend.replace("-", "_")
            cosine = np.sum(matrix * vectors["torch"], axis=1)
            result[f"{name}_cosine_to_torch_min"] = round(float(cosine.min()), 6)
            result[f"{name}_cosine_to_torch_mean"] = round(float(cosine.mean()), 6)
            result[f"{name}_speedup_vs_torch"] = round(
                float(result[f"{name}_texts_per_s"]) / float(result["torch_texts_per_s"]),  # type: ignore[arg-type]
                2,
            )
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return result
