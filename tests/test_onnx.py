"""The ONNX Runtime encoder gives PyTorch's vectors on real capability texts, and is the default."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from capmatch.embeddings import model as embedding_model
from capmatch.embeddings.model import SentenceTransformerEmbedder, get_embedder, resolve_model_path
from capmatch.embeddings.onnx import OnnxEmbedder, exported_model
from capmatch.evaluation.bench_embed import corpus_sentences, pages_in

DOCS = Path(__file__).resolve().parent.parent / "fixtures" / "docs"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    sample = corpus_sentences(pages_in(DOCS))
    assert len(sample) >= 150  # every fixture page contributes
    return sample


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return get_embedder(backend="torch")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    return get_embedder(backend="onnx")  # type: ignore[return-value]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_onnx_vectors_match_pytorch_on_fixture_sentences(
    texts: list[str], torch_embedder: SentenceTransformerEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    reference = torch_embedder._encode(texts)
    vectors = onnx_embedder._encode(texts)
    assert vectors.shape == reference.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    agreement = cosines(vectors, reference)
    assert agreement.min() >= 0.999, texts[int(agreement.argmin())]


def test_long_texts_are_truncated_like_sentence_transformers(
    torch_embedder: SentenceTransformerEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    long = " ".join(["a queue that retries failed background jobs with exponential backoff"] * 60)
    batch = ["x", long, "  padded  with spaces  ", "Ünïcode café naïve — résumé"]
    assert cosines(onnx_embedder._encode(batch), torch_embedder._encode(batch)).min() >= 0.999


def test_order_and_batching_do_not_change_vectors(texts: list[str], onnx_embedder: OnnxEmbedder) -> None:
    sample = texts[:70]
    together = onnx_embedder._encode(sample)
    alone = np.vstack([onnx_embedder._encode([t]) for t in sample[:5]])
    assert np.allclose(together[:5], alone, atol=1e-5)
    reversed_rows = onnx_embedder._encode(sample[::-1])[::-1]
    assert np.allclose(together, reversed_rows, atol=1e-5)


def test_a_page_opening_embedded_alone_has_the_bits_of_the_ingest_batch(onnx_embedder: OnnxEmbedder) -> None:
    # Ingestion embeds a page's opening while the LLM answers (pipeline.ingest._prefetch), then the
    # capabilities and identity without it: every vector must be the one the single batch gave.
    from capmatch.evaluation.bench_ingest import documents
    from capmatch.matching.identity import document_text

    caps = ["Retry failed jobs: retries a job with exponential backoff", "HTTP/2: speaks HTTP/2 to servers"]
    for _, page in documents(6):
        opening = document_text(page)
        batch = onnx_embedder._encode([*caps, "pgtide: a Postgres task queue", opening])
        assert onnx_embedder._encode([opening])[0].tobytes() == batch[-1].tobytes()
        assert onnx_embedder._encode([*caps, "pgtide: a Postgres task queue"]).tobytes() == batch[:-1].tobytes()


def test_batches_side_by_side_give_the_vectors_of_one_thread(texts: list[str], onnx_embedder: OnnxEmbedder) -> None:
    if onnx_embedder.workers < 2:
        pytest.skip("one core: batches run one after another")
    one_thread = OnnxEmbedder(onnx_embedder.model_name, cache_size=0, threads=1)
    assert one_thread.workers == 1
    for sample in (texts, texts[:20]):  # several length batches; one batch cut into one part per core
        assert np.allclose(onnx_embedder._encode(sample), one_thread._encode(sample), atol=1e-5)
    assert onnx_embedder._single is not None  # the side-by-side session ran


def test_auto_backend_is_onnx_and_torch_is_selectable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_embedder().backend == "onnx"
    monkeypatch.setenv("CAPMATCH_EMBEDDING_BACKEND", "torch")
    assert get_embedder().backend == "torch"


def test_auto_falls_back_to_torch_without_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding_model, "onnx_available", lambda: False)
    monkeypatch.setattr(embedding_model, "_EMBEDDERS", {})
    assert get_embedder().backend == "torch"


def test_auto_falls_back_to_torch_when_the_export_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise RuntimeError("no space left on device")

    monkeypatch.setattr(embedding_model, "_onnx_embedder", broken)
    monkeypatch.setattr(embedding_model, "_EMBEDDERS", {})
    monkeypatch.setattr(embedding_model, "_ONNX_FAILED", set())
    assert get_embedder().backend == "torch"
    assert get_embedder().backend == "torch" and len(calls) == 1  # the export is not retried on every call
    monkeypatch.setenv("CAPMATCH_EMBEDDING_BACKEND", "onnx")
    with pytest.raises(RuntimeError):  # asked for explicitly: the failure is the answer
        get_embedder()


def test_export_is_cached_and_atomic(tmp_path: Path, onnx_embedder: OnnxEmbedder) -> None:
    folder = Path(resolve_model_path("all-MiniLM-L6-v2"))
    first = exported_model(folder, tmp_path)
    mtime = first.stat().st_mtime_ns
    assert exported_model(folder, tmp_path) == first and first.stat().st_mtime_ns == mtime  # not exported twice
    assert [p.name for p in first.parent.iterdir()] == ["model.onnx"]  # no temporary file left behind
    assert os.path.getsize(first) > 10_000_000


def test_normalised_query_hits_the_cache(onnx_embedder: OnnxEmbedder) -> None:
    first = onnx_embedder.embed_batch(["Retry failed   background jobs"])[0]
    hits = onnx_embedder.cache_hits
    again = onnx_embedder.embed_query("  retry FAILED background\tjobs \n")
    assert onnx_embedder.cache_hits == hits + 1
    assert np.array_equal(first, again)
    # The normalisation is one the tokenizer makes anyway: the vectors agree without the cache too.
    fresh = onnx_embedder._encode(["  retry FAILED background\tjobs \n"])[0]
    assert float(first @ fresh) >= 0.99999


def test_length_batches_pad_a_short_text_with_a_long_one_never() -> None:
    from capmatch.embeddings.onnx import BATCH_SIZE, length_batches

    lengths = [12, 14, 20, 256, 9, *[15] * 40]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = length_batches(order, lengths)
    assert [i for b in batches for i in b] == order  # every text once, in order
    assert all(len(b) <= BATCH_SIZE for b in batches)
    assert [3] in batches  # the page opening (256 tokens) is not padded onto identity lines
    assert all(lengths[b[-1]] <= max(2 * lengths[b[0]], lengths[b[0]] + 16) for b in batches)
