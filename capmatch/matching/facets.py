"""The concrete terms a need states ("… in images", "… with HTTP/2", "… on Kubernetes"): its facets.

Embeddings and BM25 weigh such a term like any other word, so "flag hate speech in images" ranked a
text-only moderation service above the one model that takes images. A facet is a hard part of the
need: search ranks a tool whose page states it above an otherwise equal tool whose page does not.
Facets are the attribute vocabulary's terms of the kinds a need can require (``matching.attributes``),
read from the query and from each candidate's words; the query's quantities and generic feature words
are left to the similarity signals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from capmatch.matching import attributes as attrs

FACET_KINDS = frozenset({"protocol", "format", "language", "platform", "modality", "storage"})
# Added to a hybrid rank score (in spread units, see matching.search) for a tool stating every facet of
# the need: about what a 0.1 higher cosine on one signal adds. Large enough to order tools that match
# the need about equally well; too small to lift a tool that matches it poorly.
FACET_WEIGHT = 1.0

Facet = tuple[str, str]


# Every term a facet can be. Terms are the only attributes of these kinds (quantities and acronyms
# have kinds of their own), so a need's facets are the ones of these it states.
FACET_TERMS = attrs.vocabulary_keys(FACET_KINDS)


def query_facets(text: str) -> frozenset[Facet]:
    """The facets ``text`` states: ``page_keys`` restricted to FACET_KINDS (tested), read for the facet
    terms alone. The whole reading also looks for quantities, acronyms (a word-frequency lookup each)
    and a hundred feature terms, none of which can be a facet."""
    return attrs.terms_stated(text, FACET_TERMS)


def coverage(facets: frozenset[Facet], ids: Sequence[str], texts: Mapping[str, str]) -> np.ndarray:
    """The share of ``facets`` each tool's words state (0 for a tool without words)."""
    if not facets:
        return np.zeros(len(ids))
    return np.array([len(attrs.stated(texts.get(t, ""), facets)) / len(facets) for t in ids], dtype=np.float64)
