"""Unique and vs alternatives lines: attributes read from evidence, claims that point at quotes, no
line naming the tool itself or a person, nothing said when nothing concrete differs."""

from __future__ import annotations

from capmatch.matching import attributes as attrs
from capmatch.matching.contrast import Close, _Page, claim_owners, compatible, unique_line, vs_alternatives_line
from capmatch.models import Capability, Evidence, ToolType


def cap(name: str, *quotes: str, cap_id: int = 1) -> Capability:
    evidence = [Evidence(quote=q, start=0, end=len(q)) for q in quotes]
    return Capability(id=cap_id, name=name, description=name, evidence=evidence)


def page(name: str, *texts: str) -> _Page:
    words = {w.lower() for w in name.split()}
    return _Page(name, words, attrs.keys(attrs.extract(texts, words)))


def test_attributes_are_concrete_terms_with_the_quotes_stating_them() -> None:
    found = attrs.extract(
        [
            "About 40 milliseconds later you get back labels and severity levels, thanks to @jdoe.",
            "Aggregates 67 TB of code across 600+ programming languages with HNSW indexes.",
            "Supports HTTP/2 and WebSockets; classifies images.",
        ]
    )
    labels = {a.label: a.quotes for a in found}
    assert labels["about 40 ms"] == (0,)
    assert labels["67 TB"] == (1,) and labels["600+ programming languages"] == (1,)
    assert labels["HTTP/2"] == (2,) and labels["WebSocket"] == (2,) and labels["image input"] == (2,)
    assert labels["approximate nearest-neighbour search"] == (1,)
    assert not any("jdoe" in a.label.lower() for a in found), "a handle is never an attribute"


def test_wording_variants_are_the_same_attribute() -> None:
    """ "TLS/SSL", "Multi-part", "HTTP 1.1": a page's wording is not a difference between tools."""

    def keys(text: str) -> set[tuple[str, str]]:
        return attrs.page_keys(text, frozenset())

    assert ("protocol", "tls") in keys("Browser-style TLS/SSL Verification")
    assert keys("Multi-part File Uploads") & keys("MIME / multipart forms")
    assert ("protocol", "http/1.1") in keys("Speaks HTTP 1.1 only.")
    assert keys("Automatic decompression") & keys("gzip compression")
    assert ("protocol", "http/2") in keys("Supports HTTP/2.")
    assert ("protocol", "http/https") not in keys("Supports HTTP/2.")  # a version is not the bare protocol
    assert not keys("I/O bound work")  # a slash after one letter joins nothing


def test_a_denied_attribute_is_not_stated() -> None:
    keys = attrs.page_keys("We don't support Microsoft Windows. It runs on Linux and macOS.", frozenset())
    assert ("platform", "linux") in keys and not any("windows" in k for _, k in keys)
    assert ("feature", "compression") in attrs.page_keys("Scalar quantization cuts memory by 4x.", frozenset())
    assert ("feature", "priorities") in attrs.page_keys("task prioritization", frozenset())


def test_the_language_a_tool_is_written_in_is_not_one_it_works_with() -> None:
    assert not attrs.page_keys("The heavy lifting is written in Rust and exposed with PyO3.", frozenset())
    assert not attrs.page_keys("Built on a native Rust core.", frozenset())
    assert ("language", "rust") in attrs.page_keys("Community Rust bindings.", frozenset())
    assert ("language", "python") in attrs.page_keys("A Python library written in Rust.", frozenset())


def test_words_of_the_tool_name_are_never_attributes() -> None:
    found = attrs.extract(["PgTide keeps jobs in PostgreSQL with transactional enqueue."], {"pgtide", "postgresql"})
    assert {a.label for a in found} == {"transactions"}


def test_unique_states_what_comparable_pages_lack_and_points_at_quotes() -> None:
    mine = cap("Image and text moderation", "Send text or images to one endpoint.", "Answers in 40 ms.")
    other = Close(
        cap("Text moderation", "Moderates chat messages.", cap_id=2),
        "clearsignal",
        page("ClearSignal", "ClearSignal moderates chat messages and usernames over HTTPS."),
        0.6,
    )
    line, basis = unique_line(mine, page("Wardline Guard", "Wardline"), [other.page])
    assert line.startswith("Takes image input") and "ClearSignal" in line
    assert "Wardline" not in line
    assert "40 ms" not in line  # a bare figure is too thin to set a tool apart
    claims = {c["attribute"]: c["quotes"] for c in basis}
    assert claims["image input"] == [{"index": 0, "quote": "Send text or images to one endpoint."}]


def test_nothing_concrete_says_nothing() -> None:
    mine = cap("Simple to use", "It is simple and pleasant to use.")
    other = Close(cap("Easy", "Easy to get started.", cap_id=2), "b", page("Other", "Easy to get started."), 0.7)
    assert unique_line(mine, page("Mine"), [other.page]) == ("", [])
    assert vs_alternatives_line(mine, page("Mine"), [other]) == ("", [])
    assert unique_line(cap("Images", "Classifies images."), page("Mine"), []) == ("", []), "nothing to compare with"


def test_vs_alternatives_argues_both_sides() -> None:
    mine = cap("Streaming", "Streams uploads over HTTP/2 with retries.")
    theirs = cap("Streaming", "Streams downloads over HTTP/2 and HTTP/3.", cap_id=2)
    other = Close(theirs, "pliant", page("Pliant", "Streams downloads over HTTP/2 and HTTP/3."), 0.7)
    line, basis = vs_alternatives_line(mine, page("Fetchwire", "Streams uploads over HTTP/2 with retries."), [other])
    assert line == (
        "This supports HTTP/2 and has streaming, retries and file uploads; Pliant (“Streaming”) also supports "
        "HTTP/2 and has streaming, and instead supports HTTP/3."
    )
    assert basis[0]["tool"] == "pliant" and basis[0]["this"][0]["attribute"] == "retries"
    assert basis[0]["other"][0]["quotes"][0]["quote"] == theirs.evidence[0].quote


def test_types_that_cannot_stand_in_for_each_other() -> None:
    assert compatible(ToolType.LIBRARY, ToolType.FRAMEWORK)
    assert compatible(ToolType.MODEL, ToolType.API_SERVICE)
    assert compatible(ToolType.UNKNOWN, ToolType.DATASET)
    assert not compatible(ToolType.DATASET, ToolType.LIBRARY)
    assert not compatible(ToolType.MODEL, ToolType.LIBRARY)


def test_a_trait_several_capabilities_mention_is_claimed_once() -> None:
    """ "validation, retries and streaming" in one sentence and a "Streaming support" capability: the
    streaming difference belongs to the capability named for it, retries to the first stating it."""
    overview = cap("Overview", "Handles validation, retries, and streaming responses.", cap_id=1)
    streaming = cap("Streaming support", "Streams partial responses as they arrive.", cap_id=2)
    owner = claim_owners([overview, streaming], {"mine"})
    assert owner[("feature", "streaming")] == 2 and owner[("feature", "retries")] == 1
    peer = page("Other", "Validates outputs.")
    own = page("Mine")
    first, _ = unique_line(overview, own, [peer], owned=frozenset(k for k, c in owner.items() if c == 1))
    second, _ = unique_line(streaming, own, [peer], owned=frozenset(k for k, c in owner.items() if c == 2))
    assert first.startswith("Has retries;") and "streaming" not in first
    assert second.startswith("Has streaming;")


def test_a_protocol_difference_is_argued_only_against_a_value_of_the_same_facet() -> None:
    """READMEs omit what every tool of a kind speaks: "unlike X, this supports TLS" against a page that
    only talks of HTTP/2 is a false absence; HTTP/2 and HTTP/3 against HTTP/2 is a trade-off."""
    http2 = cap("HTTP/2 support", "HTTP/2 support with multiplexing.", cap_id=2)
    other = Close(http2, "b", page("Beta", "HTTP/2"), 0.7)
    tls = cap("Secure connections", "Verifies certificates over TLS.")
    assert vs_alternatives_line(tls, page("Mine", "TLS"), [other]) == ("", [])
    versions = cap("Protocols", "Negotiates HTTP/1.1, HTTP/2 and HTTP/3.")
    third = Close(cap("Small client", "Speaks HTTP/1.1 only.", cap_id=3), "c", page("Gamma", "HTTP/1.1"), 0.6)
    line, basis = vs_alternatives_line(versions, page("Mine", "HTTP/1.1, HTTP/2 and HTTP/3"), [other, third])
    assert line == (
        "This supports HTTP/1.1, HTTP/2 and HTTP/3; Beta (“HTTP/2 support”) supports HTTP/2, "
        "and Gamma (“Small client”) supports HTTP/1.1."
    )
    assert [b["tool"] for b in basis] == ["b", "c"]


def test_one_argument_with_one_alternative_is_made_once_per_tool() -> None:
    other = Close(cap("Plain", "A plain client.", cap_id=5), "b", page("Beta", "A plain client."), 0.7)
    said: set = set()
    first = vs_alternatives_line(cap("Hooks", "Request hooks."), page("Mine", "hooks"), [other], said=said)[0]
    again = vs_alternatives_line(cap("Events", "Event hooks.", cap_id=2), page("Mine", "hooks"), [other], said=said)[0]
    assert first == "Unlike Beta (“Plain”), this has hooks." and again == ""


def test_a_sentence_about_another_product_states_its_features_not_the_tools() -> None:
    text = (
        "Redis is a great fit for this library: it is a solution for other tasks like caching and rate limiting. "
        "Other frameworks can use the stats extension."
    )
    assert attrs.page_keys(text, frozenset({"huey"})) == {("platform", "redis")}
    assert ("feature", "approximate nearest-neighbour search") in attrs.page_keys(
        "Other methods, like HNSW, add an index on top of the raw vectors.", frozenset()
    )


def test_words_in_another_sense_are_not_features() -> None:
    def keys(text: str) -> set[str]:
        return {k for _, k in attrs.page_keys(text, frozenset())}

    assert "streaming" not in keys("HTTP/2 stream multiplexing; brokers: Redis Streams; a real-time event stream.")
    assert "streaming" in keys("Streaming responses.")
    assert "scheduling" not in keys("The details are used to schedule the meeting.")
    assert "scheduling" in keys("Scheduled jobs and periodic tasks.")
    assert "priorities" not in keys("Configuration priority (highest first).")
    assert "async api" not in keys("Async I/O uses io_uring.")
    assert "type hints" not in keys("Replaces each span with a typed placeholder.")


def test_a_format_is_unique_only_among_peers_that_name_formats() -> None:
    """Pages leave out JSON; "reads or writes JSON" is a difference only where a peer names a format."""
    mine = cap("Payloads", "Attach a JSON payload to each vector.")
    silent = page("Other", "Stores vectors with metadata.")
    assert unique_line(mine, page("Mine"), [silent]) == ("", [])
    parquet = page("Corpus", "Ships as Parquet shards.")
    assert unique_line(mine, page("Mine"), [parquet])[0].startswith("Reads or writes JSON;")
    assert not attrs.page_keys("A buffer backed by Rust memory.", frozenset())


def test_wrapped_lines_and_comparison_tables_keep_their_negations() -> None:
    """A denial wrapped onto the next line still denies; a table row with a "no" cell states nothing."""
    text = (
        "What it deliberately leaves out: async support,\nHTTP/2, cookies and plugins.\n\n"
        "Feature        Mine    Other\nWebSocket      no      yes\nGzip           yes     yes\n"
    )
    keys = {k for _, k in attrs.page_keys(text, frozenset({"mine"}))}
    assert not keys & {"async api", "http/2", "cookies", "plugins", "websocket"}
    assert "compression" in keys


def test_a_tool_deleted_mid_query_scores_nothing() -> None:
    """Its vectors read back empty (0 × 0): no similarity, no pairs, no error."""
    import numpy as np

    from capmatch.matching.similar import matched_pairs, pair_score

    score, sims = pair_score(np.ones((3, 384), dtype=np.float32), np.empty((0, 0), dtype=np.float32))
    assert score == 0.0 and sims.shape == (3, 0)
    assert matched_pairs(np.arange(3), np.empty(0, dtype=np.int64), sims, 0.2) == []


def test_wording_variants_of_one_guarantee_count_as_stated() -> None:
    def keys(text: str) -> set[str]:
        return {k for _, k in attrs.page_keys(text, frozenset())}

    assert "a managed service" in keys("Production-scale vector search with no servers to manage.")
    assert "snapshots" in keys("Daily backups kept for 7 days.") and "backups" in keys("Point-in-time snapshots.")
    assert "on-disk storage" in keys("Open large memory-mapped indexes.")
    assert "json schema" in keys("OpenAPI 3.1 schema generation.")
    assert "unit tests" in keys("100% test coverage.")
    assert "plugins" not in keys("Compiled as a native extension.") and "hooks" not in keys("CORS middleware.")


def test_peers_stay_in_the_tools_category_where_the_catalog_has_one() -> None:
    from capmatch.matching.contrast import _same_category

    kind = _same_category({"a": "vector-search", "b": "vector-search", "c": "web", "d": None}, "a")
    assert kind("b") and not kind("c") and kind("d"), "an uncategorised tool is judged by similarity alone"
    assert _same_category({"a": None, "c": "web"}, "a")("c")
