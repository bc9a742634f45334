"""Contrast lines: what a capability has that the nearest capabilities of other tools lack
(``unique``), and which catalog tools come closest (``vs_alternatives``).

Both are computed from the catalog and the capability's own text; nothing is invented. They are
refreshed inside the write transaction of every catalog change for the tools the change touches,
and alternatives are rows with cascading deletes, so a line never names a deleted tool.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from wordfreq import zipf_frequency

from capmatch.extractor.decompose.base import Neighbour
from capmatch.extractor.naming import STOPWORDS
from capmatch.matching.similar import score_tools
from capmatch.models import Capability

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.storage.base import Catalog

ALTERNATIVES = 3  # alternatives named per capability
NEIGHBOURS = 40  # nearest capabilities looked at per capability
ALTERNATIVE_MIN = 0.35  # below this, another tool's capability is not a comparable one
EDGES_PER_TOOL = 8  # match-graph edges stored per tool
EDGE_MIN = 0.3  # minimum tool-pair score for a match-graph edge
# A new capability at least this close to an existing one can become its alternative, so the
# existing tool's lines are refreshed. Equal to ALTERNATIVE_MIN: lines never miss a new alternative.
AFFECTED_MIN = ALTERNATIVE_MIN
AFFECTED_NEIGHBOURS = 50
COMMON_WORD_ZIPF = 4.5  # words this frequent in English (work, image, call) say little on their own

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#/-]*[A-Za-z0-9+#]|[A-Za-z]")


def refresh_after_change(
    catalog: Catalog, index: SearchableIndex, changed: str | None, affected: set[str], threshold: float = 0.5
) -> None:
    """Recompute contrast lines and match edges after ``changed`` was added (or a tool removed)."""
    tools = set(affected)
    if changed is not None:
        tools.add(changed)
        tools |= _tools_near(catalog, index, changed)
        edges = score_tools(catalog, index, changed, limit=EDGES_PER_TOOL, threshold=threshold)
        catalog.set_matches(changed, [(t, s, len(p)) for t, s, p in edges if s >= EDGE_MIN])
    for tool_id in sorted(tools):
        if catalog.tool_exists(tool_id):
            refresh_tool(catalog, index, tool_id)
            if changed is None:
                # A deletion took edges away from these tools: let them find their next-best matches.
                edges = score_tools(catalog, index, tool_id, limit=EDGES_PER_TOOL, threshold=threshold)
                catalog.add_matches(tool_id, [(t, s, len(p)) for t, s, p in edges if s >= EDGE_MIN])


def _tools_near(catalog: Catalog, index: SearchableIndex, tool_id: str) -> set[str]:
    """Tools owning a capability close enough to one of ``tool_id``'s that their lines may change."""
    _, vectors = catalog.vectors_of(tool_id)
    if len(vectors) == 0:
        return set()
    scores, ids = index.search(vectors, AFFECTED_NEIGHBOURS)
    close = ids[(scores >= AFFECTED_MIN) & (ids >= 0)]
    owners = catalog.capability_tools(np.unique(close))
    return {t for t in owners.values() if t != tool_id}


def neighbours_for(
    catalog: Catalog, index: SearchableIndex, vectors: np.ndarray, exclude_url: str | None = None
) -> list[list[Neighbour]]:
    """For each vector, the closest capability of up to ALTERNATIVES other catalog tools (≥ ALTERNATIVE_MIN).

    Used before a new tool is stored, so a backend can write its contrast lines; an earlier version of
    the same page (same URL) is not its own alternative."""
    store = catalog
    if index.count() == 0 or len(vectors) == 0:
        return [[] for _ in range(len(vectors))]
    scores, ids = index.search(vectors, NEIGHBOURS)
    owners = store.capability_tools(np.unique(ids[ids >= 0]))
    skip = store.find_by_url(exclude_url) if exclude_url else None
    briefs = store.capabilities_by_id({int(i) for i in ids.ravel() if i >= 0})
    names = store.tool_names(set(owners.values()))
    out = []
    for row_scores, row_ids in zip(scores, ids, strict=True):
        seen: set[str] = set()
        near: list[Neighbour] = []
        for score, cap_id in zip(row_scores, row_ids, strict=True):
            owner = owners.get(int(cap_id))
            if owner is None or owner == skip or owner in seen or score < ALTERNATIVE_MIN:
                continue
            seen.add(owner)
            cap = briefs[int(cap_id)]
            near.append(Neighbour(names[owner], cap.name, cap.description, float(score)))
            if len(near) == ALTERNATIVES:
                break
        out.append(near)
    return out


def refresh_tool(catalog: Catalog, index: SearchableIndex, tool_id: str) -> None:
    store = catalog
    ids, vectors = store.vectors_of(tool_id)
    if len(ids) == 0:
        return
    scores, neighbours = index.search(vectors, NEIGHBOURS)
    owners = store.capability_tools(np.unique(neighbours[neighbours >= 0]))
    per_cap: list[list[tuple[int, str, float]]] = []
    wanted: set[int] = set(int(i) for i in ids)
    for row_scores, row_ids in zip(scores, neighbours, strict=True):
        best: dict[str, tuple[int, float]] = {}
        for score, cap_id in zip(row_scores, row_ids, strict=True):
            owner = owners.get(int(cap_id))
            if owner is None or owner == tool_id or owner in best:
                continue
            best[owner] = (int(cap_id), float(score))
        ranked = sorted(((c, o, s) for o, (c, s) in best.items()), key=lambda r: -r[2])
        per_cap.append(ranked)
        wanted |= {c for c, _, _ in ranked[:ALTERNATIVES]}
    caps = store.capabilities_by_id(wanted)
    names = store.tool_names({o for ranked in per_cap for _, o, _ in ranked[:ALTERNATIVES]})
    by_llm = store.llm_contrast(int(i) for i in ids)
    catalog_names = store.all_tool_names() if by_llm else set()
    for cap_id, ranked in zip(ids, per_cap, strict=True):
        cap = caps[int(cap_id)]
        close = [(caps[c], names[o], s) for c, o, s in ranked[:ALTERNATIVES] if s >= ALTERNATIVE_MIN]
        alternatives = [(c.id, s) for c, _, s in close if c.id is not None]
        named = by_llm.get(int(cap_id))
        if named is not None and set(named) <= catalog_names:
            # LLM-written lines stay while every tool they name is still in the catalog.
            store.set_contrast(int(cap_id), None, None, alternatives)
            continue
        store.set_contrast(int(cap_id), unique_line(cap, close), vs_alternatives_line(close), alternatives)


def vs_alternatives_line(close: list[tuple[Capability, str, float]]) -> str:
    # No catalog size or "nearest" below the threshold here: those would go stale as tools arrive,
    # while the lines are only refreshed for changes at ALTERNATIVE_MIN or closer.
    if not close:
        return f"No capability of another catalog tool comes close (none at similarity ≥ {ALTERNATIVE_MIN:.2f})."
    parts = [f"{tool} — “{cap.name}” ({sim:.2f})" for cap, tool, sim in close]
    return "Closest alternatives in the catalog: " + "; ".join(parts) + "."


def unique_line(cap: Capability, close: list[tuple[Capability, str, float]]) -> str:
    if not close:
        return "No other catalog tool offers a comparable capability."
    others = set()
    for other, _, _ in close:
        others |= _stems(_capability_text(other))
    terms = distinctive_terms(_capability_text(cap), others)
    names = "; ".join(f"{tool} “{other.name}”" for other, tool, _ in close[:2])
    if not terms:
        top, tool, sim = close[0]
        return f"Equivalent to {tool} “{top.name}” ({sim:.2f}): its text mentions nothing the closest matches lack."
    quoted = ", ".join(f"“{t}”" for t in terms)
    return f"Mentions {quoted}, which the closest matches ({names}) do not."


def _capability_text(cap: Capability) -> str:
    quotes = " ".join(e.quote for e in cap.evidence)
    return f"{cap.name}. {cap.description} {quotes}"


@lru_cache(maxsize=65536)  # called for every word of every neighbour's text on each refresh
def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS}


def distinctive_terms(text: str, other_stems: set[str], limit: int = 3) -> list[str]:
    """Phrases of the text (runs of content words) with words none of the other texts use."""
    phrases: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for position, run in enumerate(re.split(r"[.,;:!?()\[\]\"“”—–]|\s-\s|\n", text)):
        words: list[str] = []
        for word in [*_WORD.findall(run), ""]:
            if word and word.lower() not in STOPWORDS and len(words) < 4:
                words.append(word)
                continue
            if words:
                novel = [w for w in words if _stem(w) not in other_stems and len(w) > 2]
                phrase = " ".join(words)
                key = phrase.lower()
                # Rarer words say more: "guardrail" is distinctive where "work" or "call" is not.
                rarity = [max(0.0, 7.0 - zipf_frequency(w, "en")) for w in novel]
                if novel and key not in seen and max(rarity) > 7.0 - COMMON_WORD_ZIPF:
                    seen.add(key)
                    # Prefer rare new words, then phrases that are mostly new, then longer, then earlier.
                    score = sum(rarity) / len(words) + len(novel) / len(words) + 0.15 * min(len(words), 3)
                    phrases.append((score, -position, phrase))
                words = [word] if word and word.lower() not in STOPWORDS else []
    phrases.sort(key=lambda p: (-p[0], -p[1]))
    chosen: list[str] = []
    for _, _, phrase in phrases:
        if any(phrase.lower() in c.lower() or c.lower() in phrase.lower() for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen
