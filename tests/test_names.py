"""Capability names: one-word labels and fragments made into noun phrases a comparison page prints."""

from __future__ import annotations

import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.extractor.naming import domain_noun, expand_label, name_from_sentence

from .test_decompose import decompose_markdown

JOB_PAGE = (
    "EmberQ is an open-source Python library for running background jobs with Redis as the queue.\n"
    "Jobs are plain functions. A job can be retried. Failed jobs go to a dead-letter queue."
)


def test_domain_noun_is_what_the_identity_sentence_is_about() -> None:
    assert domain_noun(JOB_PAGE, "EmberQ") == "job"


def test_domain_noun_keeps_an_acronym_and_skips_kind_words() -> None:
    text = "httplib2 is a comprehensive HTTP client library. HTTP caching, HTTP redirects and HTTP auth."
    assert domain_noun(text, "httplib2") == "HTTP"


def test_domain_noun_ignores_clauses_after_the_kind() -> None:
    # "a project with minimal funding, so we don't support …" says nothing about what the tool does.
    text = "Celery is a project with minimal funding, so we don't support Windows. support support support"
    assert domain_noun(text, "Celery") is None


def test_domain_noun_falls_back_to_the_opening_line() -> None:
    text = "Task queues are used to distribute work. A task is a function. Tasks run on workers."
    assert domain_noun(text, "Celery", tagline="Task queues are used to distribute work.") == "task"


def test_domain_noun_skips_product_names() -> None:
    # "Redis" is written capitalised everywhere: a product, not the domain.
    text = "Foo is a Redis wrapper. Redis is fast. Redis scales. Redis."
    assert domain_noun(text, "Foo") is None


@pytest.mark.parametrize(
    ("name", "sentence", "domain", "expected"),
    [
        ("Dependencies", "Dependencies: a job can wait for other jobs to finish.", "job", "Job dependencies"),
        ("Redirects", "Automatically follows 3XX redirects on GETs.", "HTTP", "HTTP redirects"),
        ("Faceting", "Faceting - aggregate search results by payload values.", "search", "Search faceting"),
        # What provides a quality names it better than the domain does.
        (
            "Durability",
            "Durability: a write-ahead log, plus snapshots sent to S3.",
            "vector",
            "Write-ahead log durability",
        ),
        # A label over a list of names is what is supported.
        ("Platforms", "Platforms: Linux, macOS, Windows", "generation", "Supported platforms"),
        ("Middleware", "Litestar supports typical ASGI middleware and ships with more.", "web", "ASGI middleware"),
        ("Dataclasses", "Support for `dataclasses`, `TypedDict` and attrs", None, "Dataclasses support"),
        ("SSL", "SSL", None, "SSL support"),
        ("URLs", "URLs in the schema are matched by urlparse.", None, "URL support"),
        ("WebSockets", "WebSockets - first-class ws:// support.", None, "WebSockets support"),
        ("Automatic API documentation with", "Automatic API documentation with:", None, "Automatic API documentation"),
        (
            "Litestar-hello-world",
            "litestar-hello-world: A bare-minimum application setup.",
            None,
            "Bare-minimum application setup",
        ),
    ],
)
def test_expand_label(name: str, sentence: str, domain: str | None, expected: str) -> None:
    assert expand_label(name, sentence, "Tool", domain, frozenset()) == expected


@pytest.mark.parametrize(
    ("name", "sentence", "domain"),
    [
        ("Payload filtering", "Payload filtering: filter by any field.", "vector"),  # already a phrase
        ("Upshot", "The upshot of this is that matching is fail-fast.", "data"),  # not a feature noun
        ("Tool-Enabled", "Tool-Enabled: Tasks can use custom tools", "output"),  # an adjective
        ("Jobs", "Jobs are plain functions.", "job"),  # the label is the domain itself
        ("Emberq", "Emberq runs jobs.", "job"),  # the tool's own name
    ],
)
def test_expand_label_leaves_what_it_cannot_improve(name: str, sentence: str, domain: str) -> None:
    assert expand_label(name, sentence, "Emberq", domain, frozenset()) == name


def test_expand_label_names_a_product_by_its_support() -> None:
    assert (
        expand_label("Redis", "Redis: jobs are stored in Redis", "EmberQ", "job", frozenset({"redis"}))
        == "Redis support"
    )


@pytest.mark.parametrize(
    ("name", "sentence", "expected"),
    [
        ("Dataclass", "orjson serializes instances of `dataclasses.dataclass` natively.", "Dataclass serialization"),
        ("Protocols", "orjson negotiates HTTP/1.1 and HTTP/2 over ALPN automatically.", "Protocol negotiation"),
        # The verb names the label itself: nothing to add.
        ("Integrations", "orjson integrates with the tools you already use.", "Integrations"),
    ],
)
def test_expand_label_names_what_the_tool_does_with_it(name: str, sentence: str, expected: str) -> None:
    assert expand_label(name, sentence, "orjson", None, frozenset()) == expected


def test_expand_label_finds_the_acronym_compound_after_a_plain_one() -> None:
    sentence = "Add the middleware you need: it supports typical ASGI middleware."
    assert expand_label("Middleware", sentence, "Litestar", None, frozenset()) == "ASGI middleware"


def test_a_double_hyphen_separates_an_items_name_from_its_text() -> None:
    from capmatch.extractor.naming import split_lead

    assert split_lead("Connection pooling -- reuses sockets across requests") == (
        "Connection pooling",
        "reuses sockets across requests",
    )


def test_a_framing_phrase_and_a_trailing_participle_are_not_part_of_a_name() -> None:
    """ "That said, X does provide …" and "Among other things, X can be used as …" are named from their
    claim, not from the frame; "… library designed specifically for PostgreSQL" names the library. The
    authors' voice ("In Python, we can do better") and a default ("By default, X enables …") stay as they are."""
    from capmatch.extractor.naming import name_from_sentence

    said = name_from_sentence("That said, Cronlet does provide building blocks for a scheduler service.", "Cronlet")
    assert "said" not in said.lower() and "building blocks" in said.lower(), said
    among = name_from_sentence("Among other things, Cronlet can be used as a replacement for cron.", "Cronlet")
    assert "among" not in among.lower(), among
    library = name_from_sentence(
        "pgwire is a database interface library designed specifically for PostgreSQL.", "pgwire"
    )
    assert library == "Database interface library", library
    assert name_from_sentence("Redis Streams, Postgres and SQLite are supported.", "x").startswith("Redis Streams")


def test_a_name_skips_adverbs_uses_and_framing_clauses() -> None:
    def named(sentence: str) -> str:
        return name_from_sentence(sentence, "Probe")

    assert named("Probe currently supports the following platforms: Linux; Windows; macOS.") == "Supported platforms"
    assert named("It is useful mainly for system monitoring, profiling and limiting process resources.") == (
        "System monitoring"
    )
    assert named("Similarly to the urllib module, Probe can be used to fetch objects identified by a URL.") == (
        "Fetch objects"
    )
    assert named("It can be used within both sync and async code, and has Django integration.") == (
        "Sync and async code"
    )
    assert named("It is using the widely deployed geometry library GEOS.") == "Widely deployed geometry library GEOS"
    assert named("Probe currently supports HTTP/1.1, HTTP/2 and WebSockets.") == "HTTP/1.1, HTTP/2 and WebSockets"


def test_an_identity_names_what_the_tool_is_for_not_its_kind() -> None:
    assert name_from_sentence(
        "EmberQ is an open-source Python library for running background jobs with Redis as the queue.", "EmberQ"
    ) == ("Library for running background jobs")
    assert name_from_sentence("Faker is a Python package that generates fake data for you.", "Faker") == (
        "Generates fake data"
    )
    # Only what the tool *is* is named by its relative clause; a package it includes is not the tool.
    assert name_from_sentence("Probe is a Python package that generates reports.", "Probe") == "Generates reports"
    assert name_from_sentence("It includes a Python package that generates reports.", "Probe") == "Python package"


def test_an_option_documented_with_its_default_is_named_by_what_it_does(
    embedder: SentenceTransformerEmbedder,
) -> None:
    text = (
        "# xmlish\n\nxmlish converts XML to dictionaries.\n\n## Options\n\n"
        "- `full_document=True`: Include XML declaration if True.\n"
        "- `strip_whitespace=True`: Remove leading/trailing whitespace in text nodes.\n"
    )
    names = {c.name for c in decompose_markdown(text, "xmlish", embedder)}
    assert {"XML declaration", "Remove leading/trailing whitespace"} <= names, names
    assert not any("=" in n for n in names), names
