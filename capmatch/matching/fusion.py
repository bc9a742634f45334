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
one-line descriptions need all of them. Each signal is put on a common scale per query (z-score over
the query's candidates) so a set's typical similarity level does not decide, and the fused rank score
is their weighted sum. The weights were chosen by ``capmatch eval fusion`` with leave-one-set-out
cross-validation over every labelled set (docs/eval/fusion.json); the displayed score is the same
weighted sum of the raw signals, divided by the weights' total, so it reads as a similarity.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# Chosen by `capmatch eval fusion` (docs/eval/fusion.json): the same weights on every set.
WEIGHTS = Weights(capabilities=1.0, identity=0.5, document=0.5, lexical=0.25)


def standardise(table: np.ndarray) -> np.ndarray:
    """Each column as a z-score over the rows; a constant column contributes nothing."""
    if len(table) == 0:
        return table
    spread = table.std(axis=0)
    spread[spread == 0] = 1.0
    return (table - table.mean(axis=0)) / spread


def rank_scores(table: np.ndarray, weights: Weights = WEIGHTS) -> np.ndarray:
    """The fused score that orders candidates: weighted sum of per-query z-scores."""
    return standardise(table) @ weights.vector()


def display_scores(table: np.ndarray, weights: Weights = WEIGHTS) -> np.ndarray:
    """A similarity to show beside each result: weighted mean of the raw signals."""
    w = weights.vector()
    return (table @ w) / (w.sum() or 1.0)


def lexical_scores(query: str, texts: list[str]) -> np.ndarray:
    """BM25 of each text for ``query``, with the query itself in the pool (IDF over the candidates
    and the query), divided by the query's score for its own words."""
    import bm25s  # imported here: only similar-tool scoring needs it

    if not texts:
        return np.zeros(0)
    corpus = [query, *texts]
    tokens = bm25s.tokenize(corpus, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    vocab = {i: w for w, i in tokens.vocab.items()}
    words = [vocab[i] for i in tokens.ids[0]]
    if not words:
        return np.zeros(len(texts))
    scores = np.asarray(retriever.get_scores(words), dtype=np.float64)
    own = scores[0]
    return scores[1:] / own if own > 0 else np.zeros(len(texts))
