"""Near-duplicate merging by embedding similarity, shared by every decomposer backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from capmatch.embeddings.model import Embedder
from capmatch.extractor.decompose.base import CapabilityDraft

MERGE_SIMILARITY = 0.82
MAX_CAPABILITIES = 15
MAX_QUOTES = 3


def group_near_duplicates(
    vectors: np.ndarray,
    order: Sequence[int],
    threshold: float = MERGE_SIMILARITY,
    limit: int = MAX_CAPABILITIES,
    threshold_for: Callable[[int, int], float] | None = None,
) -> list[tuple[int, list[int]]]:
    """Walk items best first; one within ``threshold`` of a kept item joins it instead of being kept.
    ``threshold_for(kept, item)``, if given, sets the threshold per pair (e.g. lower for two items the
    document's structure already relates).

    Returns (kept item, items that joined it) for at most ``limit`` kept items, in walking order.
    """
    kept: list[int] = []
    joined: dict[int, list[int]] = {}
    for i in order:
        if kept:
            sims = vectors[kept] @ vectors[i]
            if threshold_for is not None:
                sims = sims - np.array([threshold_for(k, i) for k in kept]) + threshold
            best = int(sims.argmax())
            if float(sims[best]) >= threshold:
                joined[kept[best]].append(i)
                continue
        if len(kept) < limit:
            kept.append(i)
            joined[i] = []
    return [(k, joined[k]) for k in kept]


def merge_drafts(drafts: list[CapabilityDraft], embedder: Embedder) -> list[CapabilityDraft]:
    """Merge drafts that say the same thing (e.g. from two chunks); a duplicate's quotes become evidence."""
    if not drafts:
        return []
    vectors = embedder.embed_batch([f"{d.name}: {d.description}" for d in drafts])
    merged = []
    for keeper, others in group_near_duplicates(vectors, range(len(drafts))):
        draft = drafts[keeper]
        quotes = list(dict.fromkeys([*draft.quotes, *(q for o in others for q in drafts[o].quotes)]))
        merged.append(CapabilityDraft(draft.name, draft.description, quotes[:MAX_QUOTES], draft.score))
    return merged
