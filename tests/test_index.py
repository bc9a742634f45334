"""Vector index round trips for each backend: add -> save -> load -> add more -> remove -> search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from capmatch.embeddings import index as vector_index
from capmatch.embeddings.index import IndexConfig
from capmatch.errors import IndexMismatch


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(("kind", "encoding"), [("flat", "sq8"), ("ivf", "sq8"), ("ivf", "flat")])
def test_round_trip(kind: str, encoding: str, tmp_path: Path) -> None:
    first = unit_vectors(400)
    ids = np.arange(1000, 1400, dtype=np.int64)
    index = vector_index.build(kind, ids, first, 32, nprobe=64, encoding=encoding)
    assert index.kind == kind and index.count() == 400

    config = IndexConfig(model="m", dimension=32, kind=kind, count=400, generation="g7", nprobe=64)
    vector_index.save(index, tmp_path, config)
    loaded = vector_index.load(tmp_path, "m", 32)
    assert loaded is not None
    index, config = loaded
    assert index.kind == kind and config.generation == "g7" and index.count() == 400
    assert config.encoding == (encoding if kind == "ivf" else None)
    assert getattr(index, "encoding", None) == config.encoding

    more = unit_vectors(50, seed=1)
    index.add(np.arange(5000, 5050, dtype=np.int64), more)
    assert index.count() == 450
    assert index.remove(np.array([1000, 1001, 5000], dtype=np.int64)) == 3
    assert index.count() == 447

    scores, found = index.search(np.vstack([first[5], more[7], first[0]]), 3)
    exact = kind == "flat" or encoding == "flat"
    assert found[0][0] == 1005 and scores[0][0] == pytest.approx(1.0, abs=1e-5 if exact else 2e-2)
    assert found[1][0] == 5007
    assert 1000 not in found[2]  # removed ids never come back


def test_search_on_an_empty_index_returns_nothing() -> None:
    index = vector_index.build("flat", np.empty(0, dtype=np.int64), np.empty((0, 8), dtype=np.float32), 8)
    scores, ids = index.search(unit_vectors(2, dim=8), 5)
    assert scores.shape == (2, 0) and ids.shape == (2, 0)


def test_config_is_checked_on_load(tmp_path: Path) -> None:
    index = vector_index.build("flat", np.arange(3, dtype=np.int64), unit_vectors(3), 32)
    vector_index.save(index, tmp_path, IndexConfig("model-a", 32, "flat", 3, "g1"))
    with pytest.raises(IndexMismatch, match="CAPMATCH_EMBEDDING_MODEL=model-a"):
        vector_index.load(tmp_path, "model-b", 32)
    # A config that disagrees with the index file (a crash between the two writes) is not trusted.
    vector_index.save(index, tmp_path, IndexConfig("model-a", 32, "flat", 4, "g1"))
    assert vector_index.load(tmp_path, "model-a", 32) is None


def test_kind_is_chosen_by_size() -> None:
    assert vector_index.choose_kind(10, "auto", 50_000) == "flat"
    assert vector_index.choose_kind(60_000, "auto", 50_000) == "ivf"
    assert vector_index.choose_kind(10, "ivf", 50_000) == "ivf"


def test_an_ivf_flat_index_saved_before_sq8_still_loads(tmp_path: Path) -> None:
    """Configs written before the encoding was recorded have kind "ivf" and no "encoding" key."""
    vectors = unit_vectors(400)
    index = vector_index.build("ivf", np.arange(400, dtype=np.int64), vectors, 32, nprobe=64, encoding="flat")
    vector_index.save(index, tmp_path, IndexConfig("m", 32, "ivf", 400, "g1", nprobe=64))
    config_file = tmp_path / vector_index.CONFIG_FILE
    old = json.loads(config_file.read_text())
    del old["encoding"]
    config_file.write_text(json.dumps(old))
    loaded = vector_index.load(tmp_path, "m", 32)
    assert loaded is not None
    assert loaded[0].kind == "ivf" and loaded[0].encoding == "flat"  # type: ignore[attr-defined]
    assert loaded[0].search(vectors[3:4], 1)[1][0][0] == 3


def test_sq8_is_a_quarter_of_ivf_flat(tmp_path: Path) -> None:
    vectors = unit_vectors(4000, dim=384)
    ids = np.arange(4000, dtype=np.int64)
    sizes = {}
    for encoding in ("sq8", "flat"):
        index = vector_index.build("ivf", ids, vectors, 384, nprobe=8, encoding=encoding)
        vector_index.save(index, tmp_path / encoding, IndexConfig("m", 384, "ivf", 4000, "g1", nprobe=8))
        sizes[encoding] = (tmp_path / encoding / "index-g1.faiss").stat().st_size
    assert sizes["sq8"] < 0.3 * sizes["flat"]
