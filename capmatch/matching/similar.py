"""Similar tools and free-text search: FAISS over capabilities, aggregated to tools.

Tool-to-tool score (symmetric): for the capability similarity matrix S between A and B,

    capabilities = (mean_i max_j S_ij + mean_j max_i S_ij) / 2
    score        = c · capabilities + 0.5 · cos(identity_A, identity_B)

with c = 1, or 0.5 when either document is a short description whose capabilities only restate
its identity (see ``combined``).

The first term is how well B covers A's capabilities and A covers B's, averaged. The second compares
the tools' identities, "<name>: <the page's own sentence saying what it is>": capability matching alone
underweights what *kind* of tool each is (a task queue and a web framework both "retry" and "run
workers"). Candidates come from FAISS over capabilities and from the nearest identities; the score is
then computed exactly from stored vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from capmatch.matching.identity import IDENTITY_WHOLE_TEXT_WORDS
from capmatch.storage.base import ToolFilter

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.embeddings.model import Embedder
    from capmatch.storage.base import Catalog

NEIGHBOURS_PER_CAPABILITY = 64
RERANK_FACTOR = 4
IDENTITY_WEIGHT = 0.5


@dataclass
class Identities:
    ids: list[str]
    row: dict[str, int]
    matrix: np.ndarray
    short: set[str]  # tools whose whole document is their identity (see capmatch.pipeline.identity_text)


def combined(capabilities: float, identity: float, restated: bool) -> float:
    """When either tool's document is a short description, its identity *is* that text and its
    capabilities only restate it: matching them again counts half, or it outweighs the identity."""
    return (0.5 if restated else 1.0) * capabilities + IDENTITY_WEIGHT * identity


def identities(catalog: Catalog) -> Identities:
    """All tools' identity vectors, cached until the catalog changes."""

    def load() -> Identities:
        ids, matrix = catalog.identities()
        short = catalog.short_documents(IDENTITY_WHOLE_TEXT_WORDS)
        return Identities(ids, {t: i for i, t in enumerate(ids)}, matrix, short)

    return catalog.cached("identities", load)


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


def pair_score(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    sims = a @ b.T
    if sims.size == 0:
        return 0.0, sims
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


def score_tools(
    catalog: Catalog,
    index: SearchableIndex,
    tool_id: str,
    flt: ToolFilter | None = None,
    limit: int = 10,
    threshold: float = 0.5,
) -> list[tuple[str, float, list[tuple[int, int, float]]]]:
    """Tools most similar to ``tool_id``: (other id, score, capability pairs matched at ``threshold``)."""
    store = catalog
    a_ids, a_vectors = store.vectors_of(tool_id)
    if len(a_ids) == 0 or index.count() == 0:
        return []
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
    known = identities(catalog)
    identity_sims = known.matrix @ known.matrix[known.row[tool_id]] if tool_id in known.row else None
    width = max(limit * RERANK_FACTOR, 30)
    if identity_sims is not None:
        # Tools of the same kind whose capabilities FAISS did not surface are candidates too.
        for i in np.argsort(-identity_sims)[: width + 1]:
            other = known.ids[int(i)]
            if other != tool_id:
                provisional.setdefault(other, 0.0)
    if flt is not None and (flt.type or flt.pricing or flt.category):
        facts = store.tool_filters(provisional)
        provisional = {t: s for t, s in provisional.items() if t in facts and flt.matches(*facts[t])}

    def identity(other: str) -> float:
        return float(identity_sims[known.row[other]]) if identity_sims is not None and other in known.row else 0.0

    shortlist = sorted(provisional, key=lambda t: -(provisional[t] / len(a_ids) + IDENTITY_WEIGHT * identity(t)))
    scored = []
    for other in shortlist[:width]:
        b_ids, b_vectors = store.vectors_of(other)
        score, sims = pair_score(a_vectors, b_vectors)
        restated = tool_id in known.short or other in known.short
        scored.append((other, combined(score, identity(other), restated), b_ids, sims))
    scored.sort(key=lambda r: (-r[1], r[0]))
    # Pairs only for the tools returned: the greedy matching is the costly part.
    return [
        (other, score, matched_pairs(a_ids, b_ids, sims, threshold)) for other, score, b_ids, sims in scored[:limit]
    ]


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


def search_text(
    catalog: Catalog,
    index: SearchableIndex,
    embedder: Embedder,
    text: str,
    k: int = 10,
    flt: ToolFilter | None = None,
    count_matches: bool = True,
) -> list[SearchHit]:
    """Tools ranked by how well their capabilities answer a free-text need.

    A tool scores its best capability similarity plus a smaller share of its second and third,
    so a tool meeting the need in several ways edges out one that mentions it once.
    """
    store = catalog
    if index.count() == 0 or not text.strip():
        return []
    query = embedder.embed_batch([text])
    filtered = flt is not None and bool(flt.type or flt.pricing or flt.category)
    scores, ids = index.search(query, 400 if filtered else 200)
    owners = store.capability_tools(ids[0][ids[0] >= 0])
    per_tool: dict[str, list[tuple[int, float]]] = {}
    for score, cap_id in zip(scores[0], ids[0], strict=True):
        owner = owners.get(int(cap_id))
        if owner is not None:
            per_tool.setdefault(owner, []).append((int(cap_id), float(score)))
    if filtered:
        facts = store.tool_filters(per_tool)
        per_tool = {t: v for t, v in per_tool.items() if t in facts and flt.matches(*facts[t])}  # type: ignore[union-attr]
    ranked = []
    for owner, matches in per_tool.items():
        top = sorted((s for _, s in matches), reverse=True)[:3]
        score = top[0] + 0.1 * sum(top[1:])
        ranked.append((owner, score, sorted(matches, key=lambda m: -m[1])[:3]))
    ranked.sort(key=lambda r: (-r[1], r[0]))
    ranked = ranked[:k]
    names_of = store.capability_names(c for _, _, m in ranked for c, _ in m)
    facts = store.tool_filters(t for t, _, _ in ranked)
    names = store.tool_names(t for t, _, _ in ranked)
    hits = [
        SearchHit(
            tool_id=owner,
            name=names[owner],
            type=facts[owner][0],
            pricing=facts[owner][1],
            score=round(score, 4),
            matched=[TextMatch(CapabilityRef(c, names_of[c]), round(s, 4)) for c, s in matches],
        )
        for owner, score, matches in ranked
    ]
    if count_matches:
        store.increment_times_matched(h.tool_id for h in hits)
    return hits
