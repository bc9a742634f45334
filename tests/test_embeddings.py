"""The real MiniLM embedder: normalised vectors, meaning preserved, a cache that never loses rows."""

from __future__ import annotations

import numpy as np

from capmatch.embeddings.model import SentenceTransformerEmbedder, resolve_model_path


def test_vectors_are_normalised_and_meaningful(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed_batch(["retry failed HTTP requests", "re-send requests that failed", "bake bread"])
    assert vectors.shape == (3, embedder.dimension) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_cache_smaller_than_the_batch_keeps_every_row(embedder: SentenceTransformerEmbedder) -> None:
    small = type(embedder).__new__(type(embedder))  # whichever backend get_embedder chose
    small.__dict__.update(embedder.__dict__)
    small._cache = type(embedder._cache)()
    small._cache_size = 2
    small.embed_batch(["a"])
    small.embed_batch(["b"])
    rows = small.embed_batch(["a", "c", "d", "a"])
    assert np.allclose(rows[0], rows[3]) and len(small._cache) == 2
    assert np.allclose(rows[1], embedder.embed_batch(["c"])[0], atol=1e-4)  # batching pads: tiny float drift


def test_model_is_resolved_offline_from_the_package() -> None:
    assert resolve_model_path("all-MiniLM-L6-v2").endswith("model")
