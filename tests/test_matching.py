"""Similar tools, search, compare and the match graph over the demo catalog (15 fixture tools)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.matching.contrast import EDGE_MIN
from capmatch.matching.fusion import PAIR_FLOOR
from capmatch.matching.graph import around
from capmatch.matching.render import comparison_markdown
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings
from capmatch.storage.base import ToolFilter

from .conftest import FIXTURES, ingest_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[Runtime]:
    core = Runtime(Settings(home=tmp_path_factory.mktemp("demo")), embedder=embedder)
    ingest_demo(core)
    yield core


def categories(core: Runtime) -> dict[str, str]:
    return {t.id: t.category or "" for t in core.catalog.list_tools()}


def test_similar_ranks_tools_of_the_same_kind_first(demo: Runtime) -> None:
    cats = categories(demo)
    hits_at_2 = 0
    for tool_id, category in cats.items():
        hits = demo.similar(tool_id, k=5, count_matches=False)
        assert tool_id not in [h.tool_id for h in hits]
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        hits_at_2 += sum(cats[h.tool_id] == category for h in hits[:2])
        assert cats[hits[0].tool_id] == category, (tool_id, [(h.tool_id, h.score) for h in hits])
    assert hits_at_2 / (2 * len(cats)) >= 0.8


def test_similar_hits_list_the_matched_capability_pairs(demo: Runtime) -> None:
    hits = demo.similar("fetchwire", k=3, count_matches=False)
    pairs = hits[0].matched
    assert pairs and all(p.similarity >= PAIR_FLOOR for p in pairs)
    own = {c.id for c in demo.catalog.get_tool("fetchwire").capabilities}
    theirs = {c.id for c in demo.catalog.get_tool(hits[0].tool_id).capabilities}
    assert all(p.capability.id in own and p.other.id in theirs for p in pairs)


def test_no_similar_tool_or_graph_edge_without_a_matched_pair(demo: Runtime) -> None:
    for tool in demo.catalog.list_tools():
        for hit in demo.similar(tool.id, k=10, count_matches=False):
            assert hit.matched, (tool.id, hit.tool_id, hit.score)
    graph = demo.graph()
    assert graph.edges and all(e.pairs >= 1 for e in graph.edges)


def test_a_stored_edge_without_pairs_is_not_in_the_graph(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    # Catalogs written before the rule may hold such edges; the graph (and PageRank) ignore them.
    core = Runtime(Settings(home=tmp_path / "h"), embedder=embedder)
    for name in ("wardline-guard.html", "fetchwire.md"):
        core.ingest(Source(path=FIXTURES / "docs" / name))
    a, b = sorted(t.id for t in core.catalog.list_tools())
    with core.catalog.write():
        core.catalog.set_matches(a, [(b, 0.6, 0)])
    assert core.catalog.match_edges() and core.graph().edges == []


def test_similar_filters_by_type_and_pricing(demo: Runtime) -> None:
    hits = demo.similar("tinyshield", k=10, flt=ToolFilter(type="API service"), count_matches=False)
    assert [h.tool_id for h in hits][:1] == ["clearsignal"] and all(h.type == "API service" for h in hits)
    hits = demo.similar("lodestar-db", k=10, flt=ToolFilter(pricing="Paid"), count_matches=False)
    assert [h.tool_id for h in hits][:1] == ["driftwell"] and all(h.pricing == "Paid" for h in hits)


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
def test_free_text_search_finds_the_right_kind_of_tool(demo: Runtime, query: str, category: str) -> None:
    hits = demo.search(query, k=3, count_matches=False)
    assert categories(demo)[hits[0].tool_id] == category
    assert hits[0].matched and hits[0].matched[0].similarity > 0.3


def test_unique_lines_measure_a_tool_against_its_most_similar_tools(demo: Runtime) -> None:
    """Wardline Guard's image input is unique against the other moderation tools it is shown beside,
    not against whichever tools own a nearby capability (datasets, HTTP clients)."""
    caps = demo.catalog.get_tool("wardline-guard").capabilities
    lines = [c.unique for c in caps if c.unique and "image" in c.unique.lower()]
    assert lines, [c.unique for c in caps]
    assert "TinyShield" in lines[0] and "ClearSignal" in lines[0], lines[0]
    kinds = {t.id: t.type for t in demo.catalog.list_tools()}
    for tool in demo.catalog.list_tools():
        for cap in demo.catalog.get_tool(tool.id).capabilities:
            if cap.unique and tool.type == "Model":
                assert "CodeForge" not in cap.unique and "CommitPairs" not in cap.unique, cap.unique
    assert kinds["wardline-guard"] == "Model"


def test_a_stated_facet_of_the_need_ranks_the_tool_that_has_it_first(demo: Runtime) -> None:
    """ "… in images": of the three moderation tools only Wardline Guard takes images, and it leads,
    with the hits' shown scores in rank order; without the facet ClearSignal leads."""
    hits = demo.search("flag hate speech in images", k=3, count_matches=False)
    assert hits[0].tool_id == "wardline-guard", [h.tool_id for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    plain = demo.search("flag hate speech", k=3, count_matches=False)
    assert plain[0].tool_id == "clearsignal", [h.tool_id for h in plain]


def test_query_facets_are_concrete_terms_only() -> None:
    from capmatch.matching.facets import coverage, query_facets

    assert query_facets("flag hate speech in images") == {("modality", "image input")}  # "speech" is not audio
    assert query_facets("python http client with HTTP/2") == {("language", "python"), ("protocol", "http/2")}
    assert query_facets("Task Management & To-do Lists") == frozenset()
    wanted = query_facets("a client with HTTP/2 and SOCKS5")
    texts = {"a": "Supports HTTP/2 and SOCKS5.", "b": "HTTP/2 support.", "c": "A plain HTTP client."}
    assert list(coverage(wanted, ["a", "b", "c", "d"], texts)) == [1.0, 0.5, 0.0, 0.0]


def test_stated_facets_are_the_page_keys_restricted_to_them() -> None:
    # Search reads only the wanted terms of each candidate page (attributes.stated): the answer must be
    # the whole extraction's, negations, other products' sentences and implied terms included.
    from capmatch.matching import attributes as attrs
    from capmatch.matching.facets import FACET_KINDS

    every = frozenset((k, label.lower()) for k, label, _ in attrs._COMPILED if k in FACET_KINDS)
    every |= frozenset(attrs._IMPLIES.values())
    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*")) if p.suffix in {".md", ".html", ".rst"}]
    pages += ["We don't support HTTP/2.", "Redis is a store for JSON. It keeps snapshots.", "memory-mapped files", ""]
    for text in pages:
        full = attrs.page_keys(text, frozenset())
        for wanted in (every, frozenset({("protocol", "http/2"), ("storage", "backups")})):
            assert attrs.stated(text, wanted) == full & wanted
    assert attrs.stated("It keeps snapshots.", frozenset({("storage", "backups")})) == {("storage", "backups")}


def test_query_facets_are_the_page_keys_of_the_facet_kinds() -> None:
    # A query is read for the facet terms alone (attributes.terms_stated): the answer must be what the
    # whole reading gives, restricted to the facet kinds, for short needs and for whole pages alike.
    from capmatch.matching import attributes as attrs
    from capmatch.matching.facets import FACET_KINDS, query_facets

    needs = [
        "python http client with HTTP/2",
        "self-hosted wiki with Docker on Kubernetes, written in Go",
        "vector database with a REST API in Rust",
        "reads CSV and Parquet, GPU accelerated, in the browser",
        "exactly-once delivery with replication, snapshots and a write-ahead log",
        "We don't support Windows. Runs on Linux and macOS",
        "Redis is a cache for JSON documents",
        "runs on\n\nCPUs only",  # a term across a sentence break: read as the page reading joins it
        "Task Management & To-do Lists",
        "40 ms latency at 5,000 requests per second",
        "openapi schema; memory-mapped files",
        "",
    ]
    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*")) if p.suffix in {".md", ".html", ".rst"}]
    for text in needs + pages:
        full = {k for k in attrs.page_keys(text, frozenset()) if k[0] in FACET_KINDS}
        assert query_facets(text) == full, text
    assert query_facets("runs on\n\nCPUs only") == {("platform", "cpu-only")}


def test_hybrid_search_finds_a_tool_by_its_exact_name(demo: Runtime) -> None:
    # A made-up name means nothing to an embedding; BM25 over names finds it.
    hybrid = demo.search("PgTide", k=3, count_matches=False)
    assert hybrid[0].tool_id == "pgtide"
    lexical = demo.search("PgTide", k=3, count_matches=False, mode="lexical")
    assert lexical[0].tool_id == "pgtide"


def test_search_shows_only_capabilities_above_the_floor_and_labels_weak_hits(demo: Runtime) -> None:
    from capmatch.matching.search import SEARCH_FLOOR

    hits = demo.search("flag hate speech and harassment in user comments", k=10, count_matches=False)
    assert hits and all(m.similarity >= SEARCH_FLOOR for h in hits for m in h.matched)
    assert all(h.weak == (not h.matched) for h in hits)
    assert any(h.weak for h in hits)  # 10 of 15 tools: the tail is weak, and says so
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def _reference_candidates(core: Runtime, text: str, depth: int) -> tuple[list[str], np.ndarray]:
    """search_candidates written the plain way: every tool's document cosine and BM25, sorted in full."""
    from capmatch.matching.lexical import lexical_index
    from capmatch.matching.similar import documents

    query = core.embedder.embed_batch([text])
    scores, ids = core.index().search(query, depth)
    owners = core.catalog.capability_tools(ids[0][ids[0] >= 0])
    matches: dict[str, list[float]] = {}
    for score, cap_id in zip(scores[0], ids[0], strict=True):
        if int(cap_id) in owners:
            matches.setdefault(owners[int(cap_id)], []).append(float(score))
    capability = {t: m[0] + 0.1 * sum(m[1:3]) for t, m in matches.items()}
    unreached = min(capability.values(), default=0.0)
    docs = documents(core.catalog)
    document = docs.matrix @ query[0]
    lexical_idx = lexical_index(core.catalog)
    bm25 = lexical_idx.scores(text)
    lexical = bm25 / bm25.max() if bm25.max() > 0 else bm25
    pool = set(capability) | {docs.ids[int(i)] for i in np.argsort(-document, kind="stable")[:depth]}
    pool |= {lexical_idx.ids[int(i)] for i in np.argsort(-lexical, kind="stable")[:depth] if lexical[i] > 0}
    ordered = sorted(pool)
    table = np.array(
        [
            (
                capability.get(t, unreached),
                float(document[docs.ids.index(t)]),
                float(lexical[lexical_idx.ids.index(t)]),
            )
            for t in ordered
        ]
    )
    return ordered, table


@pytest.mark.parametrize("coded", [False, True])
def test_search_candidates_match_the_plain_computation(
    demo: Runtime, monkeypatch: pytest.MonkeyPatch, coded: bool
) -> None:
    """The partial sorts, the cached rows and (when ``coded``) the 8-bit document scan change nothing:
    the pool and every signal are those of the full computation. A depth of 4 of 15 tools makes the
    cuts matter."""
    from capmatch.matching import scan, search

    monkeypatch.setattr(search, "DEPTH", 4)
    if coded:  # the codes are normally kept from 20,000 tools: here on 15, reading 2 rows per row wanted
        monkeypatch.setattr(scan, "CODED_MIN_ROWS", 0)
        monkeypatch.setattr(scan, "READ_FACTOR", 2)
    demo.catalog._derived.clear()  # the scan is rebuilt with the settings above
    try:
        for text in ("retry failed background jobs", "vector database", "PgTide", "hate speech in comments"):
            found = search.search_candidates(demo.catalog, demo.index(), demo.embedder, text)
            ids, table = _reference_candidates(demo, text, 4)
            assert found.ids == ids
            if coded:  # rescored rows: the same products up to BLAS's last bit (see matching.scan)
                np.testing.assert_allclose(found.table, table, rtol=0, atol=1e-6)
            else:
                np.testing.assert_array_equal(found.table, table)
        assert (scan.document_scan(demo.catalog)[1].codes is not None) == coded
    finally:
        demo.catalog._derived.clear()


def test_search_tables_join_the_structures_as_the_catalog_does(demo: Runtime) -> None:
    """One row per tool in string order; each structure's map and each capability's owner agree with
    the catalog's own answers (capability_tools, the document and BM25 id lists)."""
    from capmatch.matching.tables import search_tables

    tables = search_tables(demo.catalog)
    assert tables.ids == sorted(tables.ids) and len(set(tables.ids)) == len(tables.ids)
    assert [tables.ids[r] for r in tables.doc_rows] == tables.docs.ids
    assert [tables.ids[r] for r in tables.lexical_rows] == tables.lexical.ids
    assert all(tables.docs.ids[d] == t for t, d in zip(tables.ids, tables.doc_of, strict=True) if d >= 0)
    assert all(tables.lexical.ids[x] == t for t, x in zip(tables.ids, tables.lexical_of, strict=True) if x >= 0)
    cap_ids = np.array([c.id for t in demo.catalog.list_tools() for c in demo.catalog.capabilities_of(t.id)])
    owners = demo.catalog.capability_tools(cap_ids)
    assert [tables.ids[r] for r in tables.owners(cap_ids)] == [owners[int(c)] for c in cap_ids]
    assert list(tables.owners(np.array([-1, 10**9]))) == [-1, -1]  # FAISS's "none", an id never stored


def test_search_tables_of_an_empty_catalog_own_no_capability() -> None:
    """A replica's index can answer ids its tables never saw, even while they hold no capability at
    all: every such id is owned by no tool (an IndexError here was a 500 from /api/search)."""
    from capmatch.matching.tables import SearchTables

    empty = np.zeros(0, dtype=np.int64)
    tables = SearchTables([], None, None, None, empty, empty, empty, empty, empty)  # type: ignore[arg-type]
    assert list(tables.owners(np.array([0, 5, -1]))) == [-1, -1, -1]


@pytest.mark.parametrize("k", [1, 2, 3, 5, 10])
def test_facet_bonus_read_for_the_tools_near_the_top_ranks_as_the_full_one(demo: Runtime, k: int) -> None:
    """Reading facets only for tools within FACET_WEIGHT of the k-th best gives the full bonus' first
    k, in the same order with the same totals."""
    from capmatch.matching import search

    for text in (
        "flag hate speech in images",
        "python http client with HTTP/2",
        "vector database with a REST API in Rust",
        "store JSON documents on disk",
    ):
        found = search.search_candidates(demo.catalog, demo.index(), demo.embedder, text)
        ranking = search.rank_scores(found.table, "hybrid")
        full = search.facet_bonus(found, text, "hybrid")
        near = search.facet_bonus(found, text, "hybrid", ranking, k)
        assert full.any(), text  # the query states a facet some candidate has
        first = np.argsort(-(ranking + full), kind="stable")[:k]
        assert list(np.argsort(-(ranking + near), kind="stable")[:k]) == list(first), text
        np.testing.assert_array_equal(near[first], full[first])


def test_the_facet_bonus_reads_the_words_the_catalog_gives(demo: Runtime) -> None:
    """The words search checks for facets come from the BM25 index's copy: the same text as the
    catalog's ``lexical_texts`` for every tool, whatever its characters."""
    from capmatch.matching import search
    from capmatch.matching.lexical import PackedTexts, lexical_index

    idx = lexical_index(demo.catalog)
    stored = demo.catalog.lexical_texts(idx.ids)
    assert [idx.texts[row] for row in range(len(idx.texts))] == [stored[t] for t in idx.ids]
    found = search.search_candidates(demo.catalog, demo.index(), demo.embedder, "python http client with HTTP/2")
    assert found.words(range(len(found.ids))) == demo.catalog.lexical_texts(found.ids)
    texts = ["", "plain", "a — b’s", "😀 emoji", ""]
    packed = PackedTexts.of(texts)
    assert [packed[i] for i in range(len(packed))] == texts
    assert len(PackedTexts.of([])) == 0


def test_a_repeated_query_is_embedded_once_and_ranks_the_same(demo: Runtime) -> None:
    first = demo.search("Retry  failed background jobs ", k=5, count_matches=False)
    hits = demo.embedder.cache_hits  # type: ignore[attr-defined]
    again = demo.search("retry failed background jobs", k=5, count_matches=False)
    assert demo.embedder.cache_hits == hits + 1  # type: ignore[attr-defined]
    assert again == first


def test_compare_has_every_section(demo: Runtime) -> None:
    c = demo.compare("wardline-guard", "codeforge-corpus")
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
    assert c.a.capabilities and all(cap.evidence for cap in c.a.capabilities)
    # Lines are said only when something concrete differs, and never name the tool itself.
    assert any(cap.unique for cap in c.a.capabilities)
    assert not any(c.a.name in cap.unique + cap.vs_alternatives for cap in c.a.capabilities)
    ids_a = {cap.id for cap in c.a.capabilities}
    aligned = {p.a.id for p in c.alignment.matched} | {x.id for x in c.alignment.only_in_a}
    assert aligned == ids_a
    assert c.a.name in c.verdict and c.b.name in c.verdict
    assert "Rank" in c.rank_formula and c.a.similar


def test_compare_of_close_tools_aligns_capabilities(demo: Runtime) -> None:
    c = demo.compare("emberq", "pgtide")
    assert len(c.alignment.matched) >= 2
    assert "overlap on" in c.verdict


def test_markdown_comparison(demo: Runtime) -> None:
    md = comparison_markdown(demo.compare("fetchwire", "ferrox"))
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


def test_match_graph(demo: Runtime, tmp_path: Path) -> None:
    graph = demo.graph()
    assert len(graph.nodes) == 15
    assert graph.edges and all(e.weight >= EDGE_MIN for e in graph.edges)
    assert sum(n.pagerank for n in graph.nodes) == pytest.approx(1.0, abs=1e-3)
    near = around(graph, "pgtide", depth=1, limit=100)
    assert "pgtide" in {n.id for n in near.nodes} and len(near.nodes) < len(graph.nodes)
    capped = around(graph, "pgtide", depth=3, limit=4)
    assert len(capped.nodes) == 4 and "pgtide" in {n.id for n in capped.nodes}  # a hub's reach is capped


def test_match_graph_subscore_says_no_data_without_matches(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    from capmatch.matching.rank import match_graph_score

    core = Runtime(Settings(home=tmp_path / "h"), embedder=embedder)
    for name in ("wardline-guard.html", "fetchwire.md"):  # nothing in common
        core.ingest(Source(path=FIXTURES / "docs" / name))
    graph = core.graph()
    tool = core.catalog.get_tool("fetchwire")
    assert graph.edges == []
    sub = match_graph_score(tool, graph)
    assert sub.score is None and "no capability matches" in sub.note


def test_missing_data_counts_as_the_prior_not_as_absent(demo: Runtime) -> None:
    # ClearSignal has no adoption or ecosystem data; EmberQ has 9,650 stars and download rank 702.
    bare = demo.rank(demo.catalog.get_tool("clearsignal"))
    adopted = demo.rank(demo.catalog.get_tool("emberq"))
    adoption = next(s for s in bare.subscores if s.name == "Adoption")
    assert adoption.score is None and "no data" in adoption.note and "prior, 30" in adoption.note
    expected = sum(s.weight * s.counted for s in bare.subscores) / sum(s.weight for s in bare.subscores)
    assert bare.score == round(expected)
    assert bare.score is not None and adopted.score is not None and bare.score < adopted.score


def test_verdict_says_when_ranks_rest_on_different_data(demo: Runtime) -> None:
    # ClearSignal has no metadata, Wardline Guard has stars: their Adoption data differ.
    c = demo.compare("clearsignal", "wardline-guard")
    assert "The ranks rest on different data: ClearSignal has no Adoption data." in c.verdict


def test_lexical_scores_equal_a_pool_tokenized_at_once() -> None:
    # fusion.lexical_scores remembers each page's words; the scores must be those of tokenizing the
    # pool in one call, as before, bit for bit.
    import bm25s

    from capmatch.matching.fusion import lexical_scores

    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.md"))]
    for start in range(0, len(pages) - 1, 3):
        query, texts = pages[start], pages[:start] + pages[start + 1 :]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize([query, *texts], stopwords="en", show_progress=False), show_progress=False)
        words = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]
        scores = np.asarray(retriever.get_scores(words), dtype=np.float64)
        assert np.array_equal(lexical_scores(query, texts), scores[1:] / scores[0])
        assert np.array_equal(lexical_scores(query, texts), scores[1:] / scores[0])  # remembered words


def test_lexical_scores_equal_bm25s_on_mixed_pools() -> None:
    # fusion.lexical_scores computes bm25s.BM25()'s scores for the query's words only; they must be
    # bm25s's bit for bit: whole pages, short snippets, empty texts, repeated words, a short query.
    import random

    import bm25s

    from capmatch.matching.fusion import _words, lexical_scores

    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".md", ".rst", ".html")]
    rng = random.Random(7)

    def reference(query: str, texts: list[str]) -> np.ndarray:
        corpus = [list(_words(query)), *(list(_words(t)) for t in texts)]
        if not corpus[0]:
            return np.zeros(len(texts))
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        scores = np.asarray(retriever.get_scores(corpus[0]), dtype=np.float64)
        return scores[1:] / scores[0] if scores[0] > 0 else np.zeros(len(texts))

    def snippet() -> str:
        return " ".join(rng.choice(pages).split()[rng.randint(0, 40) :][: rng.randint(0, 60)])

    for _ in range(60):
        pool = [rng.choice(pages) if rng.random() < 0.5 else snippet() for _ in range(rng.randint(1, 40))]
        query = rng.choice(pages) if rng.random() < 0.6 else "queue queue retry " + snippet()
        assert lexical_scores(query, pool).tobytes() == reference(query, pool).tobytes()


def test_search_bm25_equals_bm25s_own_tokenizing(demo: Runtime) -> None:
    # LexicalIndex.scores tokenizes a query itself (lexical.query_words) and looks its words up in the
    # index's vocabulary: the words and the scores must be bm25s's own, bit for bit.
    import bm25s

    from capmatch.matching.lexical import lexical_index, query_words

    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".md", ".rst", ".html")]
    queries = [
        "python http client with HTTP/2",
        "Retry retry RETRY failed jobs",
        "the and of",  # stop words only
        "x y z",  # no word of two characters
        "",
        "Straße naïve café — 東京 データ über_cool snake_case CamelCase v2.0 a1 I/O",
        "PgTide vector database",
        "unknownword anotherone",  # words the index does not know
        *(page[:300] for page in pages),
    ]
    idx = lexical_index(demo.catalog)
    for text in queries:
        words = bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0]
        assert query_words(text) == words, text
        expected = np.asarray(idx.retriever.get_scores(words), dtype=np.float64) if words else np.zeros(len(idx.ids))
        assert idx.scores(text).tobytes() == expected.tobytes(), text
