"""Free-text search by need: three signals per tool, fused with weights fixed across labelled sets.

For a query q and a tool T:

- ``capabilities``: T's best capability similarity to q plus a tenth of its second and third (FAISS
  over capabilities), so a tool meeting the need in several ways edges out one that mentions it once;
- ``document``: cosine of q and T's document vector (the opening of its page);
- ``lexical``: BM25 of T's words (name, summary, capability names and descriptions) for q, divided by
  the best tool's BM25, so exact names, acronyms and rare terms count.

``hybrid`` ranks by the weighted sum of the signals over their spreads (as similar tools do,
``capmatch.matching.fusion``), plus a bonus for the share of the need's facets ("in images", "with
HTTP/2") a tool's words state (``capmatch.matching.facets``); ``vector`` and ``lexical`` rank by one
signal, for comparison. The weights and spreads were chosen by ``capmatch eval search --fit`` with
leave-one-set-out cross-validation on queries built from every labelled set (README "Measuring
quality").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from capmatch.matching.facets import FACET_WEIGHT, coverage, query_facets
from capmatch.matching.lexical import PackedTexts
from capmatch.matching.similar import CapabilityRef
from capmatch.matching.tables import search_tables
from capmatch.matching.topn import top_indices

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.embeddings.model import Embedder
    from capmatch.storage.base import Catalog, ToolFilter

SEARCH_MODES = ("hybrid", "vector", "lexical")
SIGNALS = ("capabilities", "document", "lexical")
# Chosen by `capmatch eval search --fit` (docs/eval/search-fusion.json): the same on every set.
WEIGHTS = np.array([1.0, 1.0, 0.25])
SPREAD = np.array([0.100044, 0.107786, 0.163769])  # each signal's deviation over all queries' candidates
# A capability is shown as "matching" a need only at or above this similarity; a hit whose best
# capability is below it is a weak match (labelled so). Chosen by `capmatch eval search`: the floor
# with the best F1 for "this hit is relevant" over 2,300 hits of six labelled sets (README).
SEARCH_FLOOR = 0.4
DEPTH = 200  # capabilities read from FAISS, and tools taken from each signal, per query


@dataclass
class TextMatch:
    capability: CapabilityRef
    similarity: float


@dataclass
class SearchHit:
    tool_id: str
    name: str
    type: str
    pricing: str
    score: float
    matched: list[TextMatch] = field(default_factory=list)
    weak: bool = False  # no capability reaches SEARCH_FLOOR: found by words or the page, or barely


@dataclass
class SearchCandidates:
    ids: list[str]
    table: np.ndarray  # candidates × SIGNALS, raw
    matches: dict[str, list[tuple[int, float]]]  # capability matches per tool, strongest first
    lexical_rows: np.ndarray  # per candidate, its row in the BM25 index, or -1
    texts: PackedTexts  # the BM25 index's words per row: the catalog's of the generation searched

    def words(self, at: Sequence[int]) -> dict[str, str]:
        """The words (``Catalog.lexical_texts``) of the candidates at positions ``at``, by tool id."""
        rows = self.lexical_rows
        return {self.ids[i]: self.texts[int(rows[i])] for i in at if rows[i] >= 0}


def search_candidates(
    catalog: Catalog, index: SearchableIndex, embedder: Embedder, text: str, flt: ToolFilter | None = None
) -> SearchCandidates:
    """The tools any signal puts near ``text``, with all three raw signals."""
    filtered = flt is not None and bool(flt.type or flt.pricing or flt.category)
    query = embedder.embed_batch([text])
    scores, ids = index.search(query, DEPTH * 2 if filtered else DEPTH)
    # After the search, not before: searching may refresh the index to a newer catalog generation,
    # and the tables must be at least as new as the ids it answers.
    tables = search_tables(catalog)
    # Capability matches per tool (by its row in the tables), strongest first as FAISS answers them.
    found: dict[int, list[tuple[int, float]]] = {}
    for score, cap_id, owner in zip(scores[0].tolist(), ids[0].tolist(), tables.owners(ids[0]).tolist(), strict=True):
        if owner >= 0:
            found.setdefault(owner, []).append((cap_id, score))
    capability = {r: m[0][1] + 0.1 * sum(s for _, s in m[1:3]) for r, m in found.items()}
    # A tool FAISS did not reach scores at most what the last one reached.
    unreached = min(capability.values(), default=0.0)
    docs, scan, lexical_idx = tables.docs, tables.scan, tables.lexical
    bm25 = lexical_idx.scores(text)
    best = float(bm25.max()) if len(bm25) else 0.0
    lexical = bm25 / best if best > 0 else bm25
    parts = [np.fromiter(capability, dtype=np.int64, count=len(capability))]
    if len(docs.ids):
        parts.append(tables.doc_rows[scan.top(query[0], DEPTH)])
    # Only tools sharing a word with the query enter by this signal: the best DEPTH of those (the same
    # as the best DEPTH of all tools, then those above 0), without partitioning the zeros of every
    # other tool (a third to all of them; 1-3 ms at 100,000 tools).
    scored = np.flatnonzero(lexical > 0)
    parts.append(tables.lexical_rows[scored[top_indices(lexical[scored], DEPTH)]])
    pool = np.unique(np.concatenate(parts))  # rows in tool-id order (see capmatch.matching.tables)
    if filtered:
        assert flt is not None
        pooled: list[str] = tables.id_array[pool].tolist()
        facts = catalog.tool_filters(pooled)
        keep = [t in facts and flt.matches(*facts[t]) for t in pooled]
        pool = pool[np.array(keep, dtype=bool)]
    ordered: list[str] = tables.id_array[pool].tolist()
    table = np.zeros((len(ordered), len(SIGNALS)), dtype=np.float64)
    table[:, 0] = unreached
    if capability:
        rows = np.fromiter(capability, dtype=np.int64, count=len(capability))
        at = np.minimum(np.searchsorted(pool, rows), max(len(pool) - 1, 0))
        hit = pool[at] == rows if len(pool) else np.zeros(len(rows), dtype=bool)
        values = np.fromiter(capability.values(), dtype=np.float64, count=len(capability))
        table[at[hit], 0] = values[hit]
    # Only the pool's document similarities are needed, not all tools': read exactly, as the scan does.
    doc_rows = tables.doc_of[pool]
    at = np.flatnonzero(doc_rows >= 0)
    if len(at):
        table[at, 1] = scan.scores(doc_rows[at], query[0])
    lexical_rows = tables.lexical_of[pool]
    at = np.flatnonzero(lexical_rows >= 0)
    if len(at):
        table[at, 2] = lexical[lexical_rows[at]]
    matches = {tables.ids[r]: m for r, m in found.items()}
    return SearchCandidates(ordered, table, matches, lexical_rows, lexical_idx.texts)


def rank_scores(table: np.ndarray, mode: str, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    if mode == "vector":
        return table[:, 0]
    if mode == "lexical":
        return table[:, 2]
    return (table / SPREAD) @ weights


def shown_scores(table: np.ndarray, mode: str, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """What a hit shows: the raw signal, or for hybrid the rank score as a weighted mean of the raw signals."""
    if mode != "hybrid":
        return rank_scores(table, mode)
    effective = weights / SPREAD
    return (table @ effective) / (effective.sum() or 1.0)


def facet_bonus(
    found: SearchCandidates,
    text: str,
    mode: str,
    ranking: np.ndarray | None = None,
    k: int | None = None,
) -> np.ndarray:
    """In hybrid mode, the rank-score bonus for the share of the need's facets each tool states.

    Given the rank scores without it (``ranking``) and the hits wanted (``k``), only tools that could
    reach the first ``k`` are read: a bonus is at most FACET_WEIGHT, so a tool scoring more than that
    below the k-th best cannot pass it, and its bonus (left 0) never shows. The first ``k`` and their
    scores are those of the bonus computed for every candidate (tested); the other tools' words are
    not read (about 12 ms of matching for 600 candidates at 100,000 tools). The words are the BM25
    index's copy, not SQLite's (1-12 ms per query at 100,000 tools): the same text, and of the same
    catalog generation as the signals that ranked the candidates."""
    wanted = query_facets(text) if mode == "hybrid" else frozenset()
    bonus = np.zeros(len(found.ids))
    if not wanted:
        return bonus
    near = np.arange(len(found.ids))
    if ranking is not None and k is not None and 0 < k < len(ranking):
        kth = np.partition(ranking, len(ranking) - k)[len(ranking) - k]  # the k-th highest
        near = np.flatnonzero(ranking + FACET_WEIGHT >= kth)
    at = near.tolist()
    bonus[near] = FACET_WEIGHT * coverage(wanted, [found.ids[i] for i in at], found.words(at))
    return bonus


def search_text(
    catalog: Catalog,
    index: SearchableIndex,
    embedder: Embedder,
    text: str,
    k: int = 10,
    flt: ToolFilter | None = None,
    count_matches: bool = True,
    mode: str = "hybrid",
) -> list[SearchHit]:
    """Tools ranked by how well they answer a free-text need (see the module docstring)."""
    if mode not in SEARCH_MODES:
        raise ValueError(f"search mode must be one of {SEARCH_MODES}")
    if index.count() == 0 or not text.strip():
        return []
    found = search_candidates(catalog, index, embedder, text, flt)
    if not found.ids:
        return []
    ranking = rank_scores(found.table, mode)
    bonus = facet_bonus(found, text, mode, ranking, k)
    order = np.argsort(-(ranking + bonus), kind="stable")[:k]
    if mode == "lexical":
        order = np.array([i for i in order if found.table[i, 2] > 0], dtype=np.int64)
    # The shown score is the rank score on the raw signals' scale, so hits read in rank order.
    shown = shown_scores(found.table, mode) + bonus / (WEIGHTS / SPREAD).sum()
    ranked = [found.ids[int(i)] for i in order]
    kept = {t: [m for m in found.matches.get(t, []) if m[1] >= SEARCH_FLOOR][:3] for t in ranked}
    names_of = catalog.capability_names(c for t in ranked for c, _ in kept[t])
    facts = catalog.tool_filters(ranked)
    names = catalog.tool_names(ranked)
    # A tool deleted while this query ran (reads are not one transaction) is left out.
    alive = [(i, t) for i, t in zip(order, ranked, strict=True) if t in facts and t in names]
    kept = {t: [m for m in kept[t] if m[0] in names_of] for _, t in alive}
    hits = [
        SearchHit(
            tool_id=tool,
            name=names[tool],
            type=facts[tool][0],
            pricing=facts[tool][1],
            score=round(float(shown[int(i)]), 4),
            matched=[TextMatch(CapabilityRef(c, names_of[c]), round(s, 4)) for c, s in kept[tool]],
            weak=not kept[tool],
        )
        for i, tool in alive
    ]
    if count_matches:
        catalog.increment_times_matched(h.tool_id for h in hits)
    return hits
