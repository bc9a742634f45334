"""Exact top-n inner products over every row of a large matrix, reading 8-bit codes first.

A search compares the query with every tool's document vector. At 100,000 tools that is 154 MB of
float32 read per query (16-28 ms on the 2-core machine under load); the same rows as 8-bit integer
codes are a quarter of it and are scored in about 4 ms. The codes only choose which rows to read
exactly, with a bound that makes the answer the float32 one:

- every row's score from the codes is within ``slack`` of its exact score, where ``slack`` is
  ``sum_j |q_j| * error_j`` and ``error_j`` is the largest reconstruction error of dimension j over
  all rows (measured when the codes are made, not assumed), plus float rounding;
- the n best code scores are each at least ``a_n - slack`` exactly (``a_n`` the n-th best code
  score), so the exact n-th best is too, and a row of the exact top n has a code score of at least
  ``a_n - 2 * slack``; tighter, the exact n-th best of the 2n best code rows (read in float32) is
  also at most the exact n-th best, so such a row has a code score of at least that minus ``slack``;
- every row above that line is rescored in float32 and the exact top n taken from them. When the
  rows read from the codes do not reach below the line, four times as many are read; when even that
  would not, all rows are scored in float32 instead.

So ``top`` returns the rows ``top_indices(matrix @ query, n)`` returns, at any catalog size. One
caveat: BLAS may round one row's product differently in the last bit when the row is multiplied in
a gathered block rather than in the whole matrix, so two rows whose products differ by that much
(duplicate vectors) can trade places, and a rescored row's score can differ from the full product's
by 1e-7. Below CODED_MIN_ROWS everything is read from the full product: bit for bit the old result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from capmatch.embeddings.onethread import one_thread
from capmatch.matching.topn import top_indices
from capmatch.matching.vectors import documents, identities

if TYPE_CHECKING:
    from capmatch.matching.vectors import Identities
    from capmatch.storage.base import Catalog

# Below this many rows a float32 product over all of them costs a few ms: no codes are kept.
CODED_MIN_ROWS = 20_000
# Rows first read from the codes per row wanted. On the 100,000-tool synthetic catalog 600-1,200 code
# scores lie above the line for the 200 wanted (see ``_top``; 2,300-4,200 with the codes' own line, when
# this was 16 and 9 of 100 queries read 4x more): 8 (1,600 rows) reached below it on every one of 100
# queries. The code scan's heap grows with the rows read: 1,600 cost about 2 ms less than 3,200.
READ_FACTOR = 8
# Float32 accumulation over 384 products of magnitude <= 1, in both the code and the exact scores.
ROUNDING = 1e-4


@dataclass
class VectorScan:
    matrix: np.ndarray  # float32, C-contiguous, one row per item
    codes: Any = None  # faiss.IndexScalarQuantizer (8-bit) over the rows, or None for a small matrix
    error: np.ndarray | None = None  # per dimension, the largest |value - decoded value| over all rows
    scale: np.ndarray | None = None  # per dimension, code = round(value * scale)
    mass: float = 0.0  # the largest sum of |code| over one row's dimensions
    full_scans: int = 0  # queries that fell back to reading every row in float32 (for tests and benches)
    # The last query's product with every row, when one was made: its scores are then read from it,
    # so they are the very numbers the full product gives (a product over a gathered block of rows
    # can differ from it in the last bit).
    _last: tuple[bytes, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, matrix: np.ndarray, coded_min_rows: int | None = None) -> VectorScan:
        """A scan of ``matrix``; with 8-bit codes from ``coded_min_rows`` rows (CODED_MIN_ROWS)."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        least = CODED_MIN_ROWS if coded_min_rows is None else coded_min_rows
        if len(matrix) < max(least, 1) or matrix.ndim != 2:
            return cls(matrix)
        import faiss

        # Each dimension scaled so its largest magnitude is 127 and rounded: the codes are the integers
        # themselves (FAISS's "direct" 8-bit codes: 3.7 ms per query over 100,000 rows against 10.6 ms
        # for its min-max 8-bit codes, which decode with a multiply-add per value; one thread, load
        # 4.6). The scale moves to the query, so a code score still estimates the inner product.
        peak = np.abs(matrix).max(axis=0)
        scale = (127.0 / np.where(peak > 0, peak, 1.0)).astype(np.float32)
        codes = faiss.IndexScalarQuantizer(
            matrix.shape[1], faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
        )
        error = np.zeros(matrix.shape[1], dtype=np.float64)
        mass = 0.0
        for start in range(0, len(matrix), 10_000):  # in chunks: a scaled copy of everything is 154 MB
            chunk = matrix[start : start + 10_000]
            rounded = np.round(chunk * scale)
            codes.add(rounded)
            decoded = codes.sa_decode(codes.sa_encode(rounded)) / scale
            error = np.maximum(error, np.abs(chunk.astype(np.float64) - decoded).max(axis=0))
            mass = max(mass, float(np.abs(rounded).sum(axis=1).max()))
        return cls(matrix, codes, error, scale, mass)

    def scores(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Exact inner products of ``query`` with ``rows``."""
        query = np.ascontiguousarray(query, dtype=np.float32)
        last = self._last
        if self.codes is None or (last is not None and last[0] == query.tobytes()):
            return self._full(query)[rows]
        with one_thread():
            return self.matrix[rows] @ query

    def _full(self, query: np.ndarray) -> np.ndarray:
        key = query.tobytes()
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        with one_thread():
            product = self.matrix @ query
        self._last = (key, product)  # one assignment: another thread sees the old pair or the new one
        return product

    def top(self, query: np.ndarray, n: int) -> np.ndarray:
        """Rows of the ``n`` highest inner products with ``query``, highest first, equal ones by lower
        row: those of ``top_indices(self.matrix @ query, n)`` (see the module docstring)."""
        with one_thread():
            return self._top(np.ascontiguousarray(query, dtype=np.float32), n)

    def _top(self, query: np.ndarray, n: int) -> np.ndarray:
        if self.codes is None or self.error is None or self.scale is None or n * READ_FACTOR >= len(self.matrix):
            return top_indices(self._full(query), n)
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        # FAISS scores direct codes against the query in 8-bit integers too (that is why it is fast), so
        # the query is scaled and rounded here, where its rounding error is known: at most half a unit
        # per dimension, i.e. 0.5 / factor on the estimate per unit of code.
        direction = query.astype(np.float64) / self.scale
        peak = float(np.abs(direction).max())
        if peak == 0:
            return top_indices(self._full(query), n)
        factor = 127.0 / peak
        probe = np.round(direction * factor).astype(np.float32)[None]
        # |estimate - exact| <= sum_j |rounding of the query_j| * |code_ij| + sum_j |q_j| * error_j
        slack = 0.5 * self.mass / factor + float(np.abs(query).astype(np.float64) @ self.error) + ROUNDING
        read = n * READ_FACTOR
        while True:
            found, rows = self.codes.search(probe, read)
            approx, rows = found[0].astype(np.float64) / factor, rows[0]
            # The exact n-th best of the 2n best code rows is at most the exact n-th best of all rows,
            # so a row of the exact top n has a code score of at least that minus the slack: a line
            # about one slack higher than the codes' own (858 rows above it instead of 2,877, median
            # of 100 queries at 100,000 tools), for the price of 2n rows read in float32.
            head = rows[: 2 * n]
            known = np.partition(self.matrix[head] @ query, len(head) - n)[len(head) - n]
            line = max(float(approx[n - 1]) - 2 * slack, float(known) - slack)
            if float(approx[-1]) < line:  # every row above the line was read
                break
            if read * 4 >= len(self.matrix):  # reading more codes would cost about what the floats do
                self.full_scans += 1
                return top_indices(self._full(query), n)
            read *= 4  # rare (see READ_FACTOR): one more, longer pass over the codes
        candidates = np.sort(rows[approx >= line])  # row order, so equal scores resolve as in a full scan
        return candidates[top_indices(self.matrix[candidates] @ query, n)]


def document_scan(catalog: Catalog) -> tuple[Identities, VectorScan]:
    """Every tool's document vector and a scan over them, kept until the catalog changes.

    Returned together so the scan's rows are always those ids, even if the catalog changes between
    two calls."""

    def build() -> tuple[Identities, VectorScan]:
        docs = documents(catalog)
        return docs, VectorScan.of(docs.matrix)

    return catalog.cached("document-scan", build)


def identity_scan(catalog: Catalog) -> tuple[Identities, VectorScan]:
    """Every tool's identity vector and a scan over them, as ``document_scan``."""

    def build() -> tuple[Identities, VectorScan]:
        known = identities(catalog)
        return known, VectorScan.of(known.matrix)

    return catalog.cached("identity-scan", build)
