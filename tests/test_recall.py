"""Structures that state capabilities the extractive decomposer used to miss (issue 10, recall)."""

from __future__ import annotations

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.extractor.coordination import feature_items
from capmatch.extractor.decompose.extractive import ClaimContext, _is_noise, _particle_end, not_a_claim
from capmatch.extractor.sections import classify_section
from capmatch.extractor.segment import Block, Span

from .test_decompose import decompose_markdown


def _section(*path: str) -> str:
    return classify_section(Block("paragraph", 0, 0, "", section=path))


def test_a_topic_sub_heading_of_a_feature_section_is_a_feature() -> None:
    assert _section("Features", "Distributed Deployment") == "feature"
    assert _section("Features", "CLI") == "feature"
    # A walkthrough stays one, even under a feature heading; a topic heading alone stays low.
    assert _section("At a glance", "Running the consumer") == "low"
    assert _section("Features", "Usage") == "low"
    assert _section("Deployment") == "low"


def test_rows_of_a_feature_table_are_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Gridly\n\nGridly is a text generation library.\n\n## Core Features\n\n"
        "| Feature | Description | Documentation |\n|---|---|---|\n"
        "| Multiple Choices | Constrain outputs to predefined options | Guide |\n"
        "| Regular Expressions | Generate text following a regex pattern | Guide |\n"
        "| Grammars | Enforce complex output structures | Guide |\n\n"
        "## Benchmarks\n\n| Client | Threads | Wall time |\n|---|---|---|\n"
        "| Gridly (async) | 200 tasks | 0.33 s |\n"
    )
    caps = decompose_markdown(text, "Gridly", embedder)
    names = {c.name for c in caps}
    assert {"Multiple Choices", "Regular Expressions"} <= names, names
    assert not any("0.33" in e.quote for c in caps for e in c.evidence)


def test_http_cookies_are_a_feature_and_leaving_out_is_a_denial() -> None:
    context = ClaimContext("Pliant")
    assert not _is_noise("Sessions with Cookie Persistence", context)
    assert _is_noise("We use cookies to improve your experience on this site.", context)
    assert not_a_claim("What Pliant deliberately leaves out: async support, HTTP/2 and plugins.", context)


def test_only_the_sentence_introducing_a_list_names_it(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Pliant\n\nPliant is a small HTTP client.\n\n## Why Pliant?\n\n"
        "Networks fail in boring ways: a load balancer drops a connection. Pliant makes retrying the default:\n\n"
        "- **Honours Retry-After.** If the server says how long to wait, Pliant waits that long.\n"
        "- **Connection reuse.** A per-host pool keeps idle keep-alive sockets.\n"
        "- **Thread-safe sessions.** One session can be shared across worker threads.\n"
    )
    quotes = {e.quote for c in decompose_markdown(text, "Pliant", embedder) for e in c.evidence}
    assert any("Honours Retry-After" in q for q in quotes) and any("Connection reuse" in q for q in quotes), quotes


def test_an_item_naming_several_features_after_two_verbs_gives_several() -> None:
    text = "Features including multiple protocol support, SSL, authentication and proxy options."
    assert [s.text for s in feature_items(Span(text, 0, len(text)))] == [
        "multiple protocol support",
        "SSL",
        "authentication",
        "proxy options",
    ]


def test_later_sentences_of_a_section_and_installation_prose(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Driftwell\n\nDriftwell is a managed vector search service.\n\n## Operations and security\n\n"
        "Backups, encryption and access control are all included. Data is encrypted at rest with AES-256. "
        "Driftwell runs in AWS and GCP regions in North America and Europe.\n\n"
        "## Installation\n\n```\npip install driftwell\n```\n\n"
        "Optional GPU support is provided via CUDA or ROCm. Install it with pip.\n"
    )
    quotes = {e.quote for c in decompose_markdown(text, "Driftwell", embedder) for e in c.evidence}
    assert any("AWS and GCP regions" in q for q in quotes), quotes
    assert any("GPU support" in q for q in quotes), quotes
    assert not any("Install it with pip" in q for q in quotes), quotes


def test_a_name_does_not_end_on_a_particle() -> None:
    assert _particle_end("Retries built in") == "Built-in retries"
    assert _particle_end("Plugins you can opt in") == "Plugins you can opt-in"
    assert _particle_end("Log in") == "Log in"


def test_sentences_before_a_list_intro_still_state_features(embedder: SentenceTransformerEmbedder) -> None:
    """A paragraph whose last sentence introduces a list of one feature's values: the list is one
    capability quoted from that sentence, and the paragraph's earlier sentences about the tool are read."""
    text = (
        "# Pliant\n\nPliant is a retry library for Python.\n\n"
        "Pliant supports full jitter between attempts. It exports every attempt to a structured log. "
        "Supported clock sources are:\n\n- monotonic\n- wall time\n- a fake clock for tests\n"
    )
    caps = decompose_markdown(text, "Pliant", embedder)
    quotes = {e.quote for c in caps for e in c.evidence}
    assert any("full jitter" in q for q in quotes), quotes
    assert any("structured log" in q for q in quotes), quotes
    listed = [c for c in caps if any("wall time" in e.quote for e in c.evidence)]
    assert listed and not any("full jitter" in e.quote for c in listed for e in c.evidence), listed


def test_topic_headings_over_usage_code_name_features(embedder: SentenceTransformerEmbedder) -> None:
    """Under "Usage", a topic heading over code only ("Connection pools") names a feature; a walkthrough's
    framing ("Using the client", "A minimal example") and a code name ("`Pool.acquire()`") do not."""
    text = (
        "# Pgwire\n\nPgwire is a PostgreSQL driver for asyncio.\n\n## Usage\n\n### Connection pools\n\n"
        "```python\npool = await pgwire.create_pool(dsn)\n```\n\n### Using the client\n\n"
        "```python\nconn = await pgwire.connect(dsn)\n```\n\n### A minimal example\n\n```python\nprint(1)\n```\n\n"
        "### `Pool.acquire()`\n\n```python\nasync with pool.acquire() as conn: ...\n```\n\n"
        "### Notifications\n\n```python\nawait conn.add_listener('jobs', on_job)\n```\n\n"
        "### Client\n\nTo get something from the database:\n\n```python\nawait conn.fetch(q)\n```\n"
    )
    names = {c.name.lower() for c in decompose_markdown(text, "Pgwire", embedder)}
    assert any("connection pool" in n for n in names), names
    # One word over nothing but code is a topic too; with a walkthrough's intro line it is a step.
    assert any("notification" in n for n in names), names
    assert not any("client" in n or "get something" in n for n in names), names
    assert not any("using the client" in n or "minimal example" in n or "acquire" in n for n in names), names


def test_a_list_of_one_propertys_values_is_one_capability(embedder: SentenceTransformerEmbedder) -> None:
    """ "It is localized to:" introduces the values of one property, one capability, not one per language."""
    text = (
        "# Fakery\n\nFakery generates fake data for tests.\n\n## Locales\n\nIt is localized to:\n\n"
        "- English\n- German\n- Japanese\n- Brazilian Portuguese\n"
    )
    caps = decompose_markdown(text, "Fakery", embedder)
    holding = [c for c in caps if any(w in e.quote for e in c.evidence for w in ("German", "Japanese"))]
    assert len(holding) == 1, [(c.name, [e.quote for e in c.evidence]) for c in caps]


def test_an_identity_sentence_introducing_a_list_keeps_both(embedder: SentenceTransformerEmbedder) -> None:
    """ "Ibex is the portable dataframe library:" says what the tool is, and its list's items are each a
    feature of it, not the values of one."""
    text = (
        "# Ibex\n\n## What is Ibex?\n\nIbex is the portable Python dataframe library:\n\n"
        "- Fast local dataframes\n- Lazy dataframe expressions\n- Interactive mode for data exploration\n"
    )
    caps = decompose_markdown(text, "Ibex", embedder)
    quotes = [[e.quote for e in c.evidence] for c in caps]
    assert any(any("portable Python dataframe library" in q for q in qs) for qs in quotes), quotes
    for item in ("Fast local dataframes", "Lazy dataframe expressions", "Interactive mode"):
        assert sum(any(item in q for q in qs) for qs in quotes) == 1, (item, quotes)
    assert not any(len([q for q in qs if "dataframe" in q]) > 1 for qs in quotes), quotes


def test_a_section_misfiled_under_a_changelog_is_read() -> None:
    # RST levels follow the order underlines first appear: "Usage" after the last version entry gets
    # the entries' underline and lands under "Changelog".
    def aside(*path: str) -> str:
        return classify_section(Block("paragraph", 0, 0, "", section=path), asides=True)

    assert aside("Crypter", "Changelog", "Usage", "Password Hashing") == "low"
    assert aside("Crypter", "Changelog", "Adjustable Work Factor") == "neutral"
    # The entries themselves stay skipped, and so does every section of the page the LLM backend reads.
    assert aside("Crypter", "Changelog", "5.0.0") == "skip"
    assert aside("Crypter", "Release notes", "Unreleased") == "skip"
    assert _section("Crypter", "Changelog", "Usage") == "skip"


def test_a_section_introducing_a_format_then_the_tool_is_read(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Packly\n\nBinary serialization for Python.\n\n## What is this?\n\n"
        "Packformat is an efficient binary serialization format. It lets you exchange data among "
        "multiple languages like JSON. This package provides CPython bindings for reading and writing "
        "Packformat data.\n\n## Usage\n\nUse `packb` for packing.\n"
    )
    caps = decompose_markdown(text, "Packly", embedder)
    quotes = {e.quote for c in caps for e in c.evidence}
    assert any("provides CPython bindings" in q for q in quotes), quotes
    assert "Exchange data among multiple languages" in {c.name for c in caps}


def test_an_opening_paragraph_ending_in_a_list_intro_keeps_its_tagline(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# humanly\n\nThis modest package contains various common humanization utilities, like turning a "
        "number into a fuzzy human-readable duration. It is localized to:\n\n- Arabic\n- Basque\n- Bengali\n\n"
        "## Usage\n\nCall `naturalsize(1000000)`.\n"
    )
    names = {c.name for c in decompose_markdown(text, "humanly", embedder)}
    assert "Common humanization utilities" in names, names


def test_the_tool_set_as_code_is_still_the_subject() -> None:
    from capmatch.extractor.decompose.extractive import _tool_is_subject

    context = ClaimContext("xmlish")
    assert _tool_is_subject("`xmlish` is a Python module that makes working with XML feel like JSON:", context)
    assert _tool_is_subject("**xmlish**'s parser streams large files.", context)
    assert not _tool_is_subject("`xml` is a format.", context)
