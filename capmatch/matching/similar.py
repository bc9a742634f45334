"""Similar tools: FAISS over capabilities, aggregated to tools.

Tool-to-tool scores fuse capability alignment, identity, document vector and lexical overlap
(``capmatch.matching.fusion``). Candidates come from FAISS over capabilities and from the nearest
identities and documents; every signal is then computed exactly from stored vectors and words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from capmatch.matching.fusion import SIGNALS, WEIGHTS, Weights, display_scores, lexical_scores, rank_scores
from capmatch.matching.scan import document_scan, identity_scan
from capmatch.matching.vectors import Identities, documents, identities
from capmatch.storage.base import ToolFilter

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.matching.scan import VectorScan
    from capmatch.storage.base import Catalog

__all__ = ["Identities", "documents", "identities"]  # re-exported: callers read tool vectors from here too

NEIGHBOURS_PER_CAPABILITY = 64
RERANK_FACTOR = 4


@dataclass(frozen=True)
class CapabilityRef:
    id: int
    name: str


@dataclass(frozen=True)
class MatchedPair:
    capability: CapabilityRef
    other: CapabilityRef
    similarity: float


@dataclass
class ToolHit:
    tool_id: str
    name: str
    type: str
    pricing: str
    score: float
    matched: list[MatchedPair] = field(default_factory=list)


def pair_score(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    if a.size == 0 or b.size == 0:
        # A tool deleted while this query ran has no vectors left (reads are not one transaction).
        return 0.0, np.zeros((len(a), 0) if a.size else (0, len(b)))
    sims = a @ b.T
    return float((sims.max(axis=1).mean() + sims.max(axis=0).mean()) / 2), sims


def matched_pairs(
    a_ids: np.ndarray, b_ids: np.ndarray, sims: np.ndarray, threshold: float, one_to_one: bool = True
) -> list[tuple[int, int, float]]:
    """Pairs above ``threshold``, strongest first; greedy one-to-one so each capability pairs once."""
    order = np.dstack(np.unravel_index(np.argsort(-sims, axis=None), sims.shape))[0]
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for i, j in order:
        sim = float(sims[i, j])
        if sim < threshold:
            break
        if one_to_one and (i in used_a or j in used_b):
            continue
        used_a.add(int(i))
        used_b.add(int(j))
        out.append((int(a_ids[i]), int(b_ids[j]), sim))
    return out


@dataclass
class Candidates:
    """A query tool's candidates and their raw signals (columns in ``fusion.SIGNALS`` order)."""

    tool_id: str
    ids: list[str]
    table: np.ndarray
    a_ids: np.ndarray
    b_ids: list[np.ndarray]
    sims: list[np.ndarray]


def candidates(
    catalog: Catalog, index: SearchableIndex, tool_id: str, flt: ToolFilter | None = None, width: int = 40
) -> Candidates | None:
    """Tools that may be similar to ``tool_id``, each with its four raw signals.

    Candidates are the union of the best ``width`` by capability neighbours in FAISS, by identity
    and by document vector, so a tool near on any one signal is scored on all of them."""
    store = catalog
    a_ids, a_vectors = store.vectors_of(tool_id)
    if len(a_ids) == 0 or index.count() == 0:
        return None
    scores, neighbours = index.search(a_vectors, NEIGHBOURS_PER_CAPABILITY)
    owners = store.capability_tools(np.unique(neighbours[neighbours >= 0]))
    provisional: dict[str, float] = {}
    for row_scores, row_ids in zip(scores, neighbours, strict=True):
        best: dict[str, float] = {}
        for score, cap_id in zip(row_scores, row_ids, strict=True):
            owner = owners.get(int(cap_id))
            if owner is None or owner == tool_id:
                continue
            best[owner] = max(best.get(owner, -1.0), float(score))
        for owner, score in best.items():
            provisional[owner] = provisional.get(owner, 0.0) + score
    pool = set(sorted(provisional, key=lambda t: (-provisional[t], t))[:width])

    # The nearest identities and documents without sorting every tool's (see matching.scan).
    scans = (identity_scan(catalog), document_scan(catalog))
    for vectors, scan in scans:
        if tool_id in vectors.row:
            pool.update(vectors.ids[int(i)] for i in scan.top(vectors.matrix[vectors.row[tool_id]], width + 1))
    pool.discard(tool_id)
    if flt is not None and (flt.type or flt.pricing or flt.category):
        facts = store.tool_filters(pool)
        pool = {t for t in pool if t in facts and flt.matches(*facts[t])}
    ids = sorted(pool)
    if not ids:
        return None
    identity_of, document_of = (_similarities(vectors, scan, tool_id, ids) for vectors, scan in scans)
    texts = store.lexical_texts([tool_id, *ids])
    lexical = lexical_scores(texts.get(tool_id, ""), [texts.get(t, "") for t in ids])
    table = np.zeros((len(ids), len(SIGNALS)), dtype=np.float64)
    b_ids_all, sims_all = [], []
    for row, other in enumerate(ids):
        b_ids, b_vectors = store.vectors_of(other)
        capability_score, sims = pair_score(a_vectors, b_vectors)
        table[row] = (capability_score, identity_of.get(other, 0.0), document_of.get(other, 0.0), lexical[row])
        b_ids_all.append(b_ids)
        sims_all.append(sims)
    return Candidates(tool_id, ids, table, a_ids, b_ids_all, sims_all)


def _similarities(vectors: Identities, scan: VectorScan, tool_id: str, others: list[str]) -> dict[str, float]:
    """Cosine of ``tool_id``'s vector with each of ``others`` that has one (none without its own)."""
    if tool_id not in vectors.row:
        return {}
    known = [t for t in others if t in vectors.row]
    rows = np.array([vectors.row[t] for t in known], dtype=np.int64)
    values = scan.scores(rows, vectors.matrix[vectors.row[tool_id]]) if known else np.zeros(0)
    return {t: float(v) for t, v in zip(known, values, strict=True)}


def score_tools(
    catalog: Catalog,
    index: SearchableIndex,
    tool_id: str,
    flt: ToolFilter | None = None,
    limit: int = 10,
    threshold: float = 0.5,
    weights: Weights = WEIGHTS,
) -> list[tuple[str, float, list[tuple[int, int, float]]]]:
    """Tools most similar to ``tool_id``: (other id, score, capability pairs matched at ``threshold``).

    A tool none of whose capabilities matches one of ``tool_id``'s at ``threshold`` is not similar,
    however close its description: the comparison would have nothing to align."""
    found = candidates(catalog, index, tool_id, flt, width=max(limit * RERANK_FACTOR, 30))
    if found is None:
        return []
    order = np.argsort(-rank_scores(found.table, weights), kind="stable")
    shown = display_scores(found.table, weights)
    out = []
    for row in order:
        pairs = matched_pairs(found.a_ids, found.b_ids[row], found.sims[row], threshold)
        if pairs:
            out.append((found.ids[row], float(shown[row]), pairs))
            if len(out) == limit:
                break
    return out


def similar_tools(
    catalog: Catalog,
    index: SearchableIndex,
    tool_id: str,
    k: int = 10,
    flt: ToolFilter | None = None,
    count_matches: bool = True,
    threshold: float = 0.5,
) -> list[ToolHit]:
    store = catalog
    store.get_tool(tool_id, with_capabilities=False)  # 404 for unknown ids
    scored = score_tools(catalog, index, tool_id, flt, k, threshold)
    hits = _tool_hits(catalog, scored)
    if count_matches:
        store.increment_times_matched(h.tool_id for h in hits)
    return hits


def _tool_hits(catalog: Catalog, scored: list[tuple[str, float, list[tuple[int, int, float]]]]) -> list[ToolHit]:
    store = catalog
    names_of = store.capability_names({i for _, _, pairs in scored for a, b, _ in pairs for i in (a, b)})
    facts = store.tool_filters(t for t, _, _ in scored)
    names = store.tool_names(t for t, _, _ in scored)
    hits = []
    for other, score, pairs in scored:
        if other not in facts or other not in names or any(i not in names_of for a, b, _ in pairs for i in (a, b)):
            continue  # deleted while this query ran (reads are not one transaction)
        tool_type, pricing, _ = facts[other]
        hits.append(
            ToolHit(
                tool_id=other,
                name=names[other],
                type=tool_type,
                pricing=pricing,
                score=round(score, 4),
                matched=[
                    MatchedPair(CapabilityRef(a, names_of[a]), CapabilityRef(b, names_of[b]), round(sim, 4))
                    for a, b, sim in pairs
                ],
            )
        )
    return hits
