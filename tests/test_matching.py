"""Similar tools, search, compare and the match graph over the demo catalog (15 fixture tools)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capmatch.core import CapMatch
from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.matching.compare import compare
from capmatch.matching.contrast import EDGE_MIN
from capmatch.matching.graph import match_graph, neighbourhood
from capmatch.matching.render import comparison_markdown
from capmatch.matching.similar import search_text, similar_tools
from capmatch.pipeline.ingest import Source, ingest
from capmatch.settings import Settings
from capmatch.storage.catalog import ToolFilter

from .conftest import FIXTURES, ingest_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[CapMatch]:
    core = CapMatch(Settings(home=tmp_path_factory.mktemp("demo")), embedder=embedder)
    ingest_demo(core)
    yield core


def categories(core: CapMatch) -> dict[str, str]:
    return {t.id: t.category or "" for t in core.store.list_tools()}


def test_similar_ranks_tools_of_the_same_kind_first(demo: CapMatch) -> None:
    cats = categories(demo)
    hits_at_2 = 0
    for tool_id, category in cats.items():
        hits = similar_tools(demo, tool_id, k=5, count_matches=False)
        assert tool_id not in [h.tool_id for h in hits]
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        hits_at_2 += sum(cats[h.tool_id] == category for h in hits[:2])
        assert cats[hits[0].tool_id] == category, (tool_id, [(h.tool_id, h.score) for h in hits])
    assert hits_at_2 / (2 * len(cats)) >= 0.8


def test_similar_hits_list_the_matched_capability_pairs(demo: CapMatch) -> None:
    hits = similar_tools(demo, "fetchwire", k=3, count_matches=False)
    pairs = hits[0].matched
    assert pairs and all(p.similarity >= demo.settings.match_threshold for p in pairs)
    own = {c.id for c in demo.store.get_tool("fetchwire").capabilities}
    theirs = {c.id for c in demo.store.get_tool(hits[0].tool_id).capabilities}
    assert all(p.capability.id in own and p.other.id in theirs for p in pairs)


def test_similar_filters_by_type_and_pricing(demo: CapMatch) -> None:
    hits = similar_tools(demo, "wardline-guard", k=10, flt=ToolFilter(type="Dataset"), count_matches=False)
    assert hits and all(h.type == "Dataset" for h in hits)
    hits = similar_tools(demo, "fetchwire", k=10, flt=ToolFilter(pricing="Paid"), count_matches=False)
    assert hits and all(h.pricing == "Paid" for h in hits)


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("flag hate speech and harassment in user comments", "safety-models"),
        ("retry failed background jobs with a worker", "task-queues"),
        ("approximate nearest neighbour search over embeddings", "vector-databases"),
        ("source code training data for code language models", "code-datasets"),
        ("send HTTP requests with connection pooling", "http-clients"),
    ],
)
def test_free_text_search_finds_the_right_kind_of_tool(demo: CapMatch, query: str, category: str) -> None:
    hits = search_text(demo, query, k=3, count_matches=False)
    assert categories(demo)[hits[0].tool_id] == category
    assert hits[0].matched and hits[0].matched[0].similarity > 0.3


def test_compare_has_every_section(demo: CapMatch) -> None:
    c = compare(demo, "wardline-guard", "codeforge-corpus")
    assert c.title == "Wardline Guard vs CodeForge Corpus"
    assert [r.feature for r in c.table] == [
        "Type",
        "Rank",
        "Adoption",
        "Quality",
        "Ecosystem",
        "Match Graph",
        "Pricing",
        "Starting price",
        "License",
        "Capabilities",
        "Grounded",
        "Times matched",
    ]
    table = {r.feature: (r.a, r.b) for r in c.table}
    assert table["Type"] == ("Model", "Dataset")
    assert table["Starting price"] == ("$0.18 per 1M input tokens", "—")
    assert table["Ecosystem"] == ("no data", "no data")  # no metadata given: says so, not zero
    eco = next(s for s in c.a.rank.subscores if s.name == "Ecosystem")
    assert eco.score is None and "no data" in eco.note
    assert c.a.rank.score is not None and 0 <= c.a.rank.score <= 100
    assert c.a.capabilities and all(cap.unique and cap.vs_alternatives and cap.evidence for cap in c.a.capabilities)
    ids_a = {cap.id for cap in c.a.capabilities}
    aligned = {p.a.id for p in c.alignment.matched} | {x.id for x in c.alignment.only_in_a}
    assert aligned == ids_a
    assert c.a.name in c.verdict and c.b.name in c.verdict
    assert "Rank" in c.rank_formula and c.a.similar


def test_compare_of_close_tools_aligns_capabilities(demo: CapMatch) -> None:
    c = compare(demo, "emberq", "pgtide")
    assert len(c.alignment.matched) >= 2
    assert "overlap on" in c.verdict


def test_markdown_comparison(demo: CapMatch) -> None:
    md = comparison_markdown(compare(demo, "fetchwire", "ferrox"))
    for heading in (
        "# Fetchwire vs Ferrox",
        "## Fetchwire capabilities",
        "## Ferrox capabilities",
        "## Capability alignment",
        "## Verdict",
        "## Similar tools",
        "## How the rank is computed",
    ):
        assert heading in md
    assert "| Feature | Fetchwire | Ferrox |" in md
    assert "**Unique:**" in md and "**vs alternatives:**" in md and "Evidence (chars" in md


def test_match_graph(demo: CapMatch, tmp_path: Path) -> None:
    graph = match_graph(demo)
    assert len(graph.nodes) == 15
    assert graph.edges and all(e.weight >= EDGE_MIN for e in graph.edges)
    assert sum(n.pagerank for n in graph.nodes) == pytest.approx(1.0, abs=1e-3)
    near = neighbourhood(graph, "pgtide")
    assert "pgtide" in {n.id for n in near.nodes} and len(near.nodes) < len(graph.nodes)


def test_match_graph_subscore_says_no_data_without_matches(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    from capmatch.matching.rank import match_graph_score

    core = CapMatch(Settings(home=tmp_path / "h"), embedder=embedder)
    for name in ("wardline-guard.html", "fetchwire.md"):  # nothing in common
        ingest(core, Source(path=FIXTURES / "docs" / name))
    graph = match_graph(core)
    tool = core.store.get_tool("fetchwire")
    assert graph.edges == []
    sub = match_graph_score(tool, graph)
    assert sub.score is None and "no capability matches" in sub.note


def test_verdict_says_when_ranks_rest_on_different_data(demo: CapMatch) -> None:
    # ClearSignal has no metadata, Wardline Guard has stars: their Adoption data differ.
    c = compare(demo, "clearsignal", "wardline-guard")
    assert "The ranks rest on different data: ClearSignal has no Adoption data." in c.verdict
