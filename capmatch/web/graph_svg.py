"""Server-side layout of the match graph for the /graph page: positions from networkx's spring
layout (seeded, so the same catalog draws the same picture), sizes from PageRank, widths from
match strength. The page draws it as inline SVG, so it reads without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from capmatch.matching.graph import GraphNode, MatchGraph

WIDTH, HEIGHT, MARGIN_X, MARGIN_Y = 960, 640, 90, 40
EDGES_PER_TOOL = 3


@dataclass(frozen=True)
class PlacedNode:
    node: GraphNode
    x: float
    y: float
    r: float
    neighbours: tuple[str, ...]


@dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    weight: float
    pairs: int


@dataclass(frozen=True)
class Drawing:
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    width: int = WIDTH
    height: int = HEIGHT


def strongest(graph: MatchGraph, per_tool: int = EDGES_PER_TOOL) -> MatchGraph:
    """Each tool's ``per_tool`` strongest matches: in a catalog of related tools nearly every pair
    matches a little, and drawing them all hides the clusters."""
    ranked: dict[str, list[tuple[float, int]]] = {}
    for i, e in enumerate(graph.edges):
        ranked.setdefault(e.source, []).append((e.weight, i))
        ranked.setdefault(e.target, []).append((e.weight, i))
    keep = {i for edges in ranked.values() for _, i in sorted(edges, reverse=True)[:per_tool]}
    return MatchGraph(graph.nodes, [e for i, e in enumerate(graph.edges) if i in keep])


def layout(graph: MatchGraph, centre: str | None = None) -> Drawing:
    g = nx.Graph()
    g.add_nodes_from(n.id for n in graph.nodes)
    for e in graph.edges:
        g.add_edge(e.source, e.target, weight=e.weight)
    if not g.number_of_nodes():
        return Drawing([], [])
    fixed = None
    initial = None
    if centre is not None and centre in g:
        initial = {centre: (0.0, 0.0)}
        fixed = [centre]
    positions = nx.spring_layout(g, weight="weight", seed=7, pos=initial, fixed=fixed, k=None, iterations=100)
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def place(node_id: str) -> tuple[float, float]:
        x, y = positions[node_id]
        return (
            round(MARGIN_X + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN_X), 1),
            round(MARGIN_Y + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN_Y), 1),
        )

    top = graph.max_pagerank or 1.0
    nodes = [
        PlacedNode(
            node=n,
            x=place(n.id)[0],
            y=place(n.id)[1],
            r=round(6 + 12 * (n.pagerank / top), 1),
            neighbours=tuple(sorted(g.neighbors(n.id))),
        )
        for n in graph.nodes
    ]
    heaviest = max((e.weight for e in graph.edges), default=1.0) or 1.0
    edges = []
    for e in graph.edges:
        (x1, y1), (x2, y2) = place(e.source), place(e.target)
        edges.append(
            PlacedEdge(e.source, e.target, x1, y1, x2, y2, round(0.5 + 4 * e.weight / heaviest, 2), e.weight, e.pairs)
        )
    return Drawing(nodes, edges)
