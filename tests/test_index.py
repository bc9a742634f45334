"""Vector index round trips for each backend: add -> save -> load -> add more -> remove -> search.
An index is saved as an immutable snapshot file (capmatch.embeddings.snapshot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capmatch.embeddings import index as vector_index
from capmatch.embeddings import snapshot


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

    name = snapshot.write(index, tmp_path, 7)
    assert name == "snapshot-000000000007.faiss" and snapshot.seq_of(name) == 7
    assert [p.name for p in tmp_path.iterdir()] == [name], "no temporary file left behind"
    loaded = snapshot.read(tmp_path, name, 32, 400, nprobe=64)
    assert loaded is not None
    index = loaded
    assert index.kind == kind and index.count() == 400
    assert getattr(index, "encoding", None) == (encoding if kind == "ivf" else None)

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


def test_a_snapshot_that_is_not_what_the_manifest_says_is_not_loaded(tmp_path: Path) -> None:
    index = vector_index.build("flat", np.arange(3, dtype=np.int64), unit_vectors(3), 32)
    name = snapshot.write(index, tmp_path, 1)
    assert snapshot.read(tmp_path, name, 32, 3, nprobe=8) is not None
    assert snapshot.read(tmp_path, name, 32, 4, nprobe=8) is None  # another count: not that snapshot
    assert snapshot.read(tmp_path, name, 64, 3, nprobe=8) is None  # another dimension
    assert snapshot.read(tmp_path, "snapshot-000000000002.faiss", 32, 3, nprobe=8) is None  # missing
    (tmp_path / name).write_bytes(b"\x00" * 64)
    assert snapshot.read(tmp_path, name, 32, 3, nprobe=8) is None  # unreadable


def test_kind_is_chosen_by_size() -> None:
    assert vector_index.choose_kind(10, "auto", 50_000) == "flat"
    assert vector_index.choose_kind(60_000, "auto", 50_000) == "ivf"
    assert vector_index.choose_kind(10, "ivf", 50_000) == "ivf"


def test_sq8_is_a_quarter_of_ivf_flat(tmp_path: Path) -> None:
    vectors = unit_vectors(4000, dim=384)
    ids = np.arange(4000, dtype=np.int64)
    sizes = {}
    for encoding in ("sq8", "flat"):
        index = vector_index.build("ivf", ids, vectors, 384, nprobe=8, encoding=encoding)
        name = snapshot.write(index, tmp_path / encoding, 1)
        sizes[encoding] = (tmp_path / encoding / name).stat().st_size
    assert sizes["sq8"] < 0.3 * sizes["flat"]
