"""Tool-to-tool similarity: four signals fused with weights fixed across every labelled set.

For a query tool A and a candidate B:

- ``capabilities``: how well their capabilities cover each other, (mean_i max_j S_ij + mean_j max_i S_ij) / 2
  over the capability similarity matrix S;
- ``identity``: cosine of their identities ("<name>: <the page's own sentence saying what it is>");
- ``document``: cosine of their document vectors (the opening of the cleaned page, what a plain
  whole-text embedding reads);
- ``lexical``: BM25 of B's words for A's words (name, summary, capability names and descriptions),
  divided by A's score for its own words, so it lies in [0, 1].

No single signal wins on every length: capability alignment and identity carry long READMEs (whose
openings are badges and install lines), the document vector carries mid-length descriptions, and
one-line descriptions need all of them. Each raw signal is divided by its spread (its standard
deviation over every candidate of every labelled set, fixed below), so a weight means the same for
every signal, and the rank score is the weighted sum. The shown score is that sum divided by the
effective weights' total: a weighted mean of the raw similarities, in the same order as the rank.
``capmatch eval fusion`` chose the weights, the normalisation ("scaled", over a per-query z-score)
and the pair floor together, by leave-one-set-out cross-validation over every labelled set
(docs/eval/fusion.json; README "Measuring quality").
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SIGNALS = ("capabilities", "identity", "document", "lexical")


@dataclass(frozen=True)
class Weights:
    capabilities: float
    identity: float
    document: float
    lexical: float

    def vector(self) -> np.ndarray:
        return np.array([self.capabilities, self.identity, self.document, self.lexical], dtype=np.float64)


# Chosen by `capmatch eval fusion` (docs/eval/fusion.json): the same weights on every set. Only their
# ratios matter (the rank and the shown score are unchanged by scaling them): document 2 : capabilities
# 1 : identity 1 : lexical 0.5.
WEIGHTS = Weights(capabilities=0.25, identity=0.25, document=0.5, lexical=0.125)
# Each signal's standard deviation over all candidates of all labelled sets (the same report).
SPREAD = np.array([0.115649, 0.122269, 0.124406, 0.068167])
# A similar tool (and a match-graph edge) needs at least one capability pair this similar; the pairs
# it lists are those. Chosen by the same cross-validation, from THRESHOLDS in capmatch.evaluation.fusion:
# the category labels reward the lowest floor tried, so this rule removes only unrelated tools.
PAIR_FLOOR = 0.2


def standardise(table: np.ndarray) -> np.ndarray:
    """Each column as a z-score over the rows; a constant column contributes nothing."""
    if len(table) == 0:
        return table
    spread = table.std(axis=0)
    spread[spread == 0] = 1.0
    return (table - table.mean(axis=0)) / spread


def rank_scores(table: np.ndarray, weights: Weights = WEIGHTS) -> np.ndarray:
    """The fused score that orders candidates: weighted sum of the signals over their spreads."""
    return (table / SPREAD) @ weights.vector()


def display_scores(table: np.ndarray, weights: Weights = WEIGHTS) -> np.ndarray:
    """The rank score as a weighted mean of the raw similarities (same order, readable scale)."""
    effective = weights.vector() / SPREAD
    return (table @ effective) / (effective.sum() or 1.0)


def lexical_scores(query: str, texts: list[str]) -> np.ndarray:
    """BM25 of each text for ``query``, with the query itself in the pool (IDF over the candidates
    and the query), divided by the query's score for its own words.

    The scores of ``bm25s.BM25()`` (Lucene BM25, k1 1.5, b 0.75, float32 cells summed in float32 in
    the query's word order) computed for the query's words only, bit for bit (tested against bm25s):
    indexing the whole pool's vocabulary in bm25s took most of a similar-tools ranking's time."""
    if not texts:
        return np.zeros(0)
    query_words = _words(query)
    if not query_words:
        return np.zeros(len(texts))
    counts = [_counts(query), *(_counts(t) for t in texts)]
    wanted = list(counts[0][0])  # the query's distinct words
    column = {w: j for j, w in enumerate(wanted)}
    n_docs = len(counts)
    tf = np.zeros((n_docs, len(wanted)), dtype=np.float32)
    lengths = np.empty(n_docs, dtype=np.int64)
    for d, (doc_counts, length) in enumerate(counts):
        lengths[d] = length
        shared = doc_counts.keys() & column.keys()
        if shared:
            cols = [column[w] for w in shared]
            tf[d, cols] = [doc_counts[w] for w in shared]
    frequency = (tf > 0).sum(axis=0)
    # As bm25s: a Python double per IDF (Lucene), stored as float32.
    idf = np.array([math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) for df in frequency.tolist()], dtype=np.float32)
    avg = lengths.mean()  # float64, as bm25s takes it
    norm = _BM25_K1 * ((1 - _BM25_B) + _BM25_B * lengths.astype(np.float64) / avg)
    tf64 = tf.astype(np.float64)
    cells = np.where(tf > 0, (idf.astype(np.float64) * (tf64 / (norm[:, None] + tf64))), 0.0).astype(np.float32)
    scores32 = np.zeros(n_docs, dtype=np.float32)
    for word in query_words:
        scores32 += cells[:, column[word]]
    scores = scores32.astype(np.float64)
    own = scores[0]
    return scores[1:] / own if own > 0 else np.zeros(len(texts))


_BM25_K1, _BM25_B = 1.5, 0.75  # bm25s.BM25()'s defaults


@lru_cache(maxsize=512)
def _counts(text: str) -> tuple[dict[str, int], int]:
    """A page's BM25 word counts and its number of words (remembered like its words)."""
    words = _words(text)
    return dict(Counter(words)), len(words)


@lru_cache(maxsize=512)
def _words(text: str) -> tuple[str, ...]:
    """A page's BM25 words (lowercased, English stop words out), as ``bm25s.tokenize`` makes them:
    remembered, since one ingest scores the same neighbours' pages against several tools (a few
    hundred pages; an entry holds a page and its words, up to a few hundred kB), and
    tokenizing them was half of this function's time. Same scores as tokenizing the pool at once
    (tested): a page's words do not depend on the other pages."""
    import bm25s

    return tuple(bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0])
