"""Lexical retrieval over the catalog: BM25 (bm25s) over each tool's name, summary, capability names
and descriptions. Exact names, acronyms and rare terms, which an embedding blurs, are found here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from capmatch.storage.base import Catalog


@dataclass
class LexicalIndex:
    ids: list[str]
    retriever: Any  # bm25s.BM25 (untyped library)
    # Each tool's position in ``ids``: built once per catalog generation, not per query (77 ms per
    # search at 100,000 tools when it was).
    row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.row = {t: i for i, t in enumerate(self.ids)}

    def scores(self, text: str) -> np.ndarray:
        """BM25 of every tool (in ``ids`` order) for ``text``; zeros when it has no indexed word."""
        import bm25s

        if not self.ids:
            return np.zeros(0)
        query = bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0]
        if not query:
            return np.zeros(len(self.ids))
        return np.asarray(self.retriever.get_scores(query), dtype=np.float64)

    def top(self, text: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best tools for ``text`` with their BM25 scores; tools sharing no word are left out."""
        import bm25s

        if not self.ids:
            return []
        query = bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0]
        if not query:
            return []
        scores = np.asarray(self.retriever.get_scores(query), dtype=np.float64)
        best = np.argsort(-scores, kind="stable")[:n]
        return [(self.ids[int(i)], float(scores[i])) for i in best if scores[i] > 0]


def lexical_index(catalog: Catalog) -> LexicalIndex:
    """Built from the catalog on first use and kept until it changes."""

    def build() -> LexicalIndex:
        import bm25s

        ids, texts = catalog.all_lexical_texts()
        retriever = bm25s.BM25()
        if texts:
            retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return LexicalIndex(ids, retriever)

    return catalog.cached("lexical", build)
