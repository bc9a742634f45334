"""Ranking metrics for "similar tools", where relevant means "same category"."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Scores:
    """Sums over queries; ``result()`` averages them."""

    queries: int = 0
    p1: float = 0.0
    p5: float = 0.0
    mrr: float = 0.0
    ndcg10: float = 0.0
    per_query: list[float] = field(default_factory=list)

    def add(self, ranked_relevance: Sequence[bool], relevant_available: int) -> None:
        """One query: the relevance of its ranked results (self excluded) and how many relevant exist."""
        rel = list(ranked_relevance)[:10]
        self.queries += 1
        self.p1 += float(bool(rel) and rel[0])
        p5 = sum(rel[:5]) / min(5, relevant_available)
        self.p5 += p5
        self.per_query.append(p5)
        self.mrr += next((1.0 / (i + 1) for i, r in enumerate(rel) if r), 0.0)
        dcg = sum(float(r) / math.log2(i + 2) for i, r in enumerate(rel))
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(10, relevant_available)))
        self.ndcg10 += dcg / ideal

    def result(self) -> dict[str, float | int]:
        n = max(self.queries, 1)
        return {
            "P@1": round(self.p1 / n, 4),
            "P@5": round(self.p5 / n, 4),
            "MRR": round(self.mrr / n, 4),
            "nDCG@10": round(self.ndcg10 / n, 4),
            "queries": self.queries,
        }
