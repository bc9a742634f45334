"""What a search reads about every tool, as integer-indexed arrays kept until the catalog changes.

A search gathers a pool of a few hundred tools from three signals, each indexed its own way: FAISS
answers capability ids, the document scan rows of the document matrix, BM25 rows of its own id list.
Joining them by tool-id strings (a SQLite lookup of each capability's tool, sets and dictionaries of
ids, a sort of strings) took about 4 ms per query at 100,000 tools. Here every tool gets one row, in
the order of its id as Python sorts strings, and each structure a map into those rows, built once per
catalog generation: a query joins the signals with a few numpy operations, and sorting the pool's
rows sorts it by tool id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from capmatch.matching.lexical import LexicalIndex, lexical_index
from capmatch.matching.scan import VectorScan, document_scan

if TYPE_CHECKING:
    from capmatch.matching.vectors import Identities
    from capmatch.storage.base import Catalog


@dataclass
class SearchTables:
    ids: list[str]  # every tool any structure below knows, in Python's string order
    docs: Identities
    scan: VectorScan  # over docs.matrix
    lexical: LexicalIndex
    doc_rows: np.ndarray  # per row of docs, its row in ids
    lexical_rows: np.ndarray  # per row of lexical.ids, its row in ids
    doc_of: np.ndarray  # per row in ids, its row of docs, or -1
    lexical_of: np.ndarray  # per row in ids, its row of lexical.ids, or -1
    owner: np.ndarray  # per capability id, the row in ids of its tool, or -1
    # ids as a numpy array (of str objects): a query's ~600 candidate rows become their ids with one
    # fancy index, not a Python loop over ids.
    id_array: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.id_array = np.array(self.ids, dtype=object)

    def owners(self, capability_ids: np.ndarray) -> np.ndarray:
        """The row of each capability's tool; -1 for an id the catalog did not hold (or FAISS's -1)."""
        ids = np.asarray(capability_ids, dtype=np.int64)
        out = np.full(ids.shape, -1, dtype=np.int64)
        # An index refreshed after these tables were built (another replica's write) may answer ids
        # past the end of owner, even when the tables knew no capability at all (owner is empty).
        known = (ids >= 0) & (ids < len(self.owner))
        out[known] = self.owner[ids[known]]
        return out


def _rows(ids: list[str], row: dict[str, int]) -> np.ndarray:
    return np.fromiter((row[t] for t in ids), dtype=np.int64, count=len(ids))


def _inverse(rows: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, -1, dtype=np.int64)
    out[rows] = np.arange(len(rows), dtype=np.int64)
    return out


def build_tables(catalog: Catalog) -> SearchTables:
    docs, scan = document_scan(catalog)
    lexical = lexical_index(catalog)
    capability_ids, tool_ids = catalog.all_capability_tools()
    # The union, not one list: each structure is read at its own moment, and a write in between may
    # add or remove a tool in one of them (the next generation rebuilds all three).
    ids = sorted({*docs.ids, *lexical.ids, *tool_ids})
    row = {t: i for i, t in enumerate(ids)}
    doc_rows, lexical_rows = _rows(docs.ids, row), _rows(lexical.ids, row)
    owner = np.full(int(capability_ids.max()) + 1 if len(capability_ids) else 0, -1, dtype=np.int64)
    owner[capability_ids] = _rows(tool_ids, row)
    return SearchTables(
        ids,
        docs,
        scan,
        lexical,
        doc_rows,
        lexical_rows,
        _inverse(doc_rows, len(ids)),
        _inverse(lexical_rows, len(ids)),
        owner,
    )


def search_tables(catalog: Catalog) -> SearchTables:
    """The tables for the catalog's current generation, built on first use."""
    return catalog.cached("search-tables", lambda: build_tables(catalog))
