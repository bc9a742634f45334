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
    and the query), divided by the query's score for its own words."""
    import bm25s  # imported here: only similar-tool scoring needs it

    if not texts:
        return np.zeros(0)
    corpus = [list(_words(query)), *(list(_words(t)) for t in texts)]
    if not corpus[0]:
        return np.zeros(len(texts))
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    scores = np.asarray(retriever.get_scores(corpus[0]), dtype=np.float64)
    own = scores[0]
    return scores[1:] / own if own > 0 else np.zeros(len(texts))


@lru_cache(maxsize=512)
def _words(text: str) -> tuple[str, ...]:
    """A page's BM25 words (lowercased, English stop words out), as ``bm25s.tokenize`` makes them:
    remembered, since one ingest scores the same neighbours' pages against several tools (a few
    hundred pages; an entry holds a page and its words, up to a few hundred kB), and
    tokenizing them was half of this function's time. Same scores as tokenizing the pool at once
    (tested): a page's words do not depend on the other pages."""
    import bm25s

    return tuple(bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0])
