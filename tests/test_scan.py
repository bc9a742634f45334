"""The partial top-n and the 8-bit document scan give exactly what a full float32 sort gives."""

from __future__ import annotations

import numpy as np
import pytest

from capmatch.evaluation.bench_search import clustered
from capmatch.matching import scan
from capmatch.matching.scan import VectorScan
from capmatch.matching.topn import top_indices


@pytest.mark.parametrize("n", [0, 1, 7, 50, 199, 200, 500])
def test_top_indices_is_the_stable_sort_prefix_even_with_ties(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.integers(0, 20, 300).astype(np.float64)  # many equal values at every cut
    assert top_indices(values, n).tolist() == np.argsort(-values, kind="stable")[:n].tolist()


def _catalog(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Clustered unit vectors (as the synthetic benchmark catalog has) and queries near the clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 384), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return clustered(rows, centres, rng), clustered(30, centres, rng)


def test_coded_scan_returns_the_float32_top_n(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "READ_FACTOR", 8)
    matrix, queries = _catalog(6000, 1)
    coded = VectorScan.of(matrix, coded_min_rows=0)
    assert coded.codes is not None
    for query in queries:
        expected = top_indices(matrix @ query, 100)
        assert coded.top(query, 100).tolist() == expected.tolist()
        np.testing.assert_array_equal(coded.scores(expected, query), (matrix @ query)[expected])
    # The codes chose the rows for most queries; a fall-back to the full scan is allowed, not the rule.
    assert coded.full_scans < len(queries) // 2


def test_coded_scan_with_duplicate_rows_keeps_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two equal rows may come out in either order: BLAS can round the same row's product differently
    in its last bit depending on where the row sits in the matrix it multiplies (a gathered block, not
    the whole), so equal vectors are not always equal scores. What is kept is every score."""
    monkeypatch.setattr(scan, "READ_FACTOR", 8)
    matrix, queries = _catalog(3000, 2)
    matrix = np.vstack([matrix, matrix[:500]])  # every one of these rows twice
    coded = VectorScan.of(matrix, coded_min_rows=0)
    for query in queries[:10]:
        expected = top_indices(matrix @ query, 60)
        got = coded.top(query, 60)
        np.testing.assert_allclose((matrix @ query)[got], (matrix @ query)[expected], rtol=0, atol=1e-6)
        assert {i % 3000 for i in got} == {i % 3000 for i in expected}


def test_a_small_matrix_keeps_no_codes() -> None:
    matrix, queries = _catalog(500, 3)
    plain = VectorScan.of(matrix)
    assert plain.codes is None
    assert plain.top(queries[0], 10).tolist() == top_indices(matrix @ queries[0], 10).tolist()
