"""Rank /100 and its sub-scores, each returned with its inputs; a sub-score without data is None.

Adoption    = stars -> min(100, 20·log10(1 + stars))            (100 at 100k stars)
              download_rank r -> 100·(1 − log10(r) / log10(15000))  (rank 1 of 15k PyPI -> 100)
              the mean of the two when both are given
Quality     = 100 · (0.4·grounded share + 0.3·min(1, capabilities/8)
                     + 0.3·share of type, pricing, license stated)
Ecosystem   = dependents/integrations/plugins d -> min(100, 25·log10(1 + d)) (from ingest metadata)
Match Graph = 100 · PageRank / highest PageRank in the catalog   (needs ≥ 2 tools)
Rank        = Σ wᵢ·scoreᵢ / Σ wᵢ over all four sub-scores,
              w: Adoption 0.30, Quality 0.25, Ecosystem 0.20, Match Graph 0.25
Prior       = a sub-score without data counts as its prior, not as missing: Adoption 30 (what about
              30 stars earn), Ecosystem 25 (about 9 dependents), Match Graph 25. Dropping it instead
              would let a tool nobody has heard of rank on Quality alone, above well-adopted tools.
              The page still says "no data" for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from capmatch.matching.graph import MatchGraph
from capmatch.models import Pricing, Tool, ToolType

WEIGHTS = {"adoption": 0.30, "quality": 0.25, "ecosystem": 0.20, "match_graph": 0.25}
# What a sub-score without data counts as in the rank (see the formula above); Quality always has data.
PRIORS = {"Adoption": 30.0, "Quality": 0.0, "Ecosystem": 25.0, "Match Graph": 25.0}
FORMULA = __doc__ or ""


@dataclass
class SubScore:
    name: str
    score: float | None
    weight: float
    inputs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def counted(self) -> float:
        """The value the rank uses: the score, or the prior when there is no data."""
        return self.score if self.score is not None else PRIORS[self.name]


@dataclass
class Rank:
    score: int | None
    subscores: list[SubScore]


def adoption(tool: Tool) -> SubScore:
    stars = _number(tool.metadata.get("stars"))
    download_rank = _number(tool.metadata.get("download_rank"))
    parts, inputs = [], {}
    if stars is not None:
        inputs["stars"] = stars
        parts.append(min(100.0, 20 * math.log10(1 + max(stars, 0))))
    if download_rank is not None and download_rank >= 1:
        inputs["download_rank"] = download_rank
        parts.append(max(0.0, 100 * (1 - math.log10(download_rank) / math.log10(15000))))
    if not parts:
        return SubScore("Adoption", None, WEIGHTS["adoption"], {}, "no data: give stars or download_rank at ingest")
    return SubScore("Adoption", round(sum(parts) / len(parts), 1), WEIGHTS["adoption"], inputs)


def quality(tool: Tool) -> SubScore:
    caps = tool.capabilities
    grounded = sum(c.grounded for c in caps) / len(caps) if caps else 0.0
    stated = [tool.type != ToolType.UNKNOWN, tool.pricing != Pricing.UNKNOWN, tool.license is not None]
    score = 100 * (0.4 * grounded + 0.3 * min(1.0, len(caps) / 8) + 0.3 * sum(stated) / len(stated))
    inputs = {
        "grounded_share": round(grounded, 3),
        "capabilities": len(caps),
        "type_stated": stated[0],
        "pricing_stated": stated[1],
        "license_stated": stated[2],
    }
    return SubScore("Quality", round(score, 1), WEIGHTS["quality"], inputs)


def ecosystem(tool: Tool) -> SubScore:
    for key in ("dependents", "integrations", "plugins"):
        value = _number(tool.metadata.get(key))
        if value is not None:
            score = min(100.0, 25 * math.log10(1 + max(value, 0)))
            return SubScore("Ecosystem", round(score, 1), WEIGHTS["ecosystem"], {key: value})
    return SubScore(
        "Ecosystem",
        None,
        WEIGHTS["ecosystem"],
        {},
        "no data: give dependents, integrations or plugins at ingest",
    )


def match_graph_score(tool: Tool, graph: MatchGraph) -> SubScore:
    if not graph.edges:
        # With no matches at all PageRank is uniform: every tool would "score" 100.
        return SubScore(
            "Match Graph", None, WEIGHTS["match_graph"], {}, "no data: no capability matches in the catalog yet"
        )
    node = graph.node(tool.id)
    if node is None:
        return SubScore("Match Graph", None, WEIGHTS["match_graph"], {}, "tool not in the graph")
    top = graph.max_pagerank or 1.0
    inputs = {"pagerank": node.pagerank, "max_pagerank": round(top, 6), "degree": node.degree}
    if node.degree == 0:
        return SubScore("Match Graph", 0.0, WEIGHTS["match_graph"], inputs, "no other tool matches its capabilities")
    return SubScore("Match Graph", round(100 * node.pagerank / top, 1), WEIGHTS["match_graph"], inputs)


def rank(tool: Tool, graph: MatchGraph) -> Rank:
    subs = [adoption(tool), quality(tool), ecosystem(tool), match_graph_score(tool, graph)]
    for sub in subs:
        if sub.score is None:
            sub.note = f"{sub.note} (counted as the prior, {PRIORS[sub.name]:g})".lstrip()
    total = sum(s.weight * s.counted for s in subs) / sum(s.weight for s in subs)
    return Rank(round(total), subs)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None
