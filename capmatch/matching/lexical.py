"""Lexical retrieval over the catalog: BM25 (bm25s) over each tool's name, summary, capability names
and descriptions. Exact names, acronyms and rare terms, which an embedding blurs, are found here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from capmatch.storage.base import Catalog


@dataclass(frozen=True)
class PackedTexts:
    """Many strings as one UTF-8 buffer and the end of each in it.

    A list of str costs about 57 bytes per string beyond its characters, and a string holding one
    character past Latin-1 ("’", "—") takes two or four bytes for every character; UTF-8 keeps
    English text at one byte a character. Reading one back decodes its slice."""

    data: bytes
    ends: np.ndarray  # int64: where each string's bytes end in data

    @classmethod
    def of(cls, texts: Sequence[str]) -> PackedTexts:
        encoded = [t.encode() for t in texts]
        return cls(b"".join(encoded), np.cumsum([len(e) for e in encoded], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, row: int) -> str:
        start = int(self.ends[row - 1]) if row > 0 else 0
        return self.data[start : int(self.ends[row])].decode()

    def nbytes(self) -> int:
        return len(self.data) + self.ends.nbytes


@dataclass
class LexicalIndex:
    ids: list[str]
    retriever: Any  # bm25s.BM25 (untyped library)
    # The words indexed for each tool (``Catalog.all_lexical_texts``), in ``ids`` order. Search reads a
    # need's facets in the words of the tools near its top (matching.search.facet_bonus): from here,
    # instead of SQLite, that took 1-12 ms per query at 100,000 tools. Its price: the words' UTF-8
    # bytes plus 8 per tool, 43.7 MB at 100,000 synthetic tools of 430 characters (tools from the
    # vendor-docs READMEs have 1.8 kB of words each, from awesome lists 0.2 kB).
    texts: PackedTexts
    # Each tool's position in ``ids``: built once per catalog generation, not per query (77 ms per
    # search at 100,000 tools when it was).
    row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.row = {t: i for i, t in enumerate(self.ids)}

    def scores(self, text: str) -> np.ndarray:
        """BM25 of every tool (in ``ids`` order) for ``text``; zeros when it has no indexed word."""
        if not self.ids:
            return np.zeros(0)
        # The query's words in the index's vocabulary, repeats and order kept: bm25s sums their
        # scores in float32 in that order (``get_scores`` would look them up the same way).
        vocabulary = self.retriever.vocab_dict
        words = [vocabulary[w] for w in query_words(text) if w in vocabulary]
        if not words:
            return np.zeros(len(self.ids))
        return np.asarray(self.retriever.get_scores_from_ids(words), dtype=np.float64)

    def top(self, text: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best tools for ``text`` with their BM25 scores; tools sharing no word are left out."""
        scores = self.scores(text)
        best = np.argsort(-scores, kind="stable")[:n]
        return [(self.ids[int(i)], float(scores[i])) for i in best if scores[i] > 0]


_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token pattern


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN  # bm25s imports scipy: not before a search needs it

    return frozenset(STOPWORDS_EN)


def query_words(text: str) -> list[str]:
    """``bm25s.tokenize([text], stopwords="en", return_ids=False)[0]`` for one text: lowercased words
    of two or more word characters, English stop words out (tested equal). The library call also
    builds a vocabulary, a set of the stop words and a progress bar per call, and maps the words to
    ids and back: 47 µs of a query against 4 µs."""
    stop = _stopwords()
    return [w for w in _WORD.findall(text.lower()) if w not in stop]


def lexical_index(catalog: Catalog) -> LexicalIndex:
    """Built from the catalog on first use and kept until it changes."""

    def build() -> LexicalIndex:
        import bm25s

        ids, texts = catalog.all_lexical_texts()
        retriever = bm25s.BM25()
        if texts:
            retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return LexicalIndex(ids, retriever, PackedTexts.of(texts))

    return catalog.cached("lexical", build)
