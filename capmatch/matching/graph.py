"""The match graph: tools as nodes, capability matches as weighted edges, PageRank for centrality."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from capmatch.storage.base import Catalog


@dataclass(frozen=True)
class GraphNode:
    id: str
    name: str
    type: str
    pricing: str
    category: str | None
    capabilities: int
    times_matched: int
    pagerank: float
    degree: int


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    weight: float
    pairs: int


@dataclass(frozen=True)
class MatchGraph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]

    @cached_property
    def _by_id(self) -> dict[str, GraphNode]:
        return {n.id: n for n in self.nodes}

    def node(self, tool_id: str) -> GraphNode | None:
        return self._by_id.get(tool_id)

    @cached_property
    def max_pagerank(self) -> float:
        return max((n.pagerank for n in self.nodes), default=0.0)


def match_graph(catalog: Catalog, current_counts: bool = False) -> MatchGraph:
    """Built from the stored edges and cached until the catalog changes. The times-matched counters
    change without a new catalog generation: ask for ``current_counts`` when showing them."""
    graph = catalog.cached("match_graph", lambda: _build(catalog))
    if not current_counts:
        return graph
    counts = catalog.times_matched()
    return MatchGraph([replace(n, times_matched=counts.get(n.id, n.times_matched)) for n in graph.nodes], graph.edges)


def _build(catalog: Catalog) -> MatchGraph:
    rows = catalog.graph_nodes()
    # An edge is a claim that two tools share capabilities: without one matched pair there is nothing
    # to show for it (catalogs stored before this rule may hold such edges).
    edges = [e for e in catalog.match_edges() if e[3] > 0]
    graph = nx.Graph()
    graph.add_nodes_from(r["id"] for r in rows)
    for a, b, score, _ in edges:
        graph.add_edge(a, b, weight=max(score, 1e-6))
    ranks = nx.pagerank(graph, weight="weight") if graph.number_of_nodes() else {}
    nodes = [
        GraphNode(
            id=r["id"],
            name=r["name"],
            type=r["type"],
            pricing=r["pricing"],
            category=r["category"],
            capabilities=r["capabilities"],
            times_matched=r["times_matched"],
            pagerank=round(ranks.get(r["id"], 0.0), 6),
            degree=graph.degree(r["id"]),
        )
        for r in rows
    ]
    return MatchGraph(nodes, [GraphEdge(a, b, round(s, 4), p) for a, b, s, p in edges])


NEIGHBOURHOOD_LIMIT = 120  # tools one neighbourhood shows at most, in the API and on the pages


def busiest(graph: MatchGraph, limit: int) -> MatchGraph:
    """The ``limit`` most central tools and the edges between them: a whole large catalog is not
    readable as one picture."""
    if len(graph.nodes) <= limit:
        return graph
    keep = {n.id for n in sorted(graph.nodes, key=lambda n: (-n.pagerank, n.id))[:limit]}
    return MatchGraph(
        [n for n in graph.nodes if n.id in keep],
        [e for e in graph.edges if e.source in keep and e.target in keep],
    )


def around(graph: MatchGraph, centre: str, depth: int, limit: int) -> MatchGraph:
    """``centre`` and the tools within ``depth`` steps, at most ``limit`` of them: each step takes
    the strongest matches first."""
    adjacent: dict[str, list[tuple[float, str]]] = {}
    for e in graph.edges:
        adjacent.setdefault(e.source, []).append((e.weight, e.target))
        adjacent.setdefault(e.target, []).append((e.weight, e.source))
    keep = {centre}
    frontier = [centre]
    for _ in range(depth):
        candidates = sorted(
            ((w, other) for tool in frontier for w, other in adjacent.get(tool, []) if other not in keep),
            reverse=True,
        )
        frontier = []
        for _, other in candidates:
            if len(keep) >= limit:
                break
            if other not in keep:
                keep.add(other)
                frontier.append(other)
    return MatchGraph(
        [n for n in graph.nodes if n.id in keep],
        [e for e in graph.edges if e.source in keep and e.target in keep],
    )
