"""Type, pricing, starting price, license and name rules, each with the rule that fired."""

from __future__ import annotations

import pytest

from capmatch.extractor.classify import (
    currency_in,
    infer_license,
    infer_pricing,
    infer_type,
    starting_price,
    summary,
    tool_name,
)
from capmatch.extractor.segment import segment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ox is a lightweight WSGI web application framework for Python.", "Framework"),
        ("Ox is an open-source, high-performance HTTP client library for Python.", "Library"),
        ("Ox is an 8B-parameter open-weights model that classifies images.", "Model"),
        ("Ox is a dataset of 12 million code files.", "Dataset"),
        ("Ox is a managed serverless vector search API service.", "API service"),
        ("Ox is a self-hosted vector database server written in Rust.", "Application"),
        ("Ox is a Python 3.10+ web server and web framework that's written to go fast.", "Framework"),
        ("Ox is a command-line client for Postgres with auto-completion.", "Application"),
        ("Ox is a CLI tool for managing secrets.", "Application"),
        ("Welcome! We love building things together.", "Unknown"),
    ],
)
def test_type_from_self_description(text: str, expected: str) -> None:
    inference = infer_type(text, segment(text))
    assert inference.value == expected
    assert inference.rule


@pytest.mark.parametrize(
    ("text", "pricing", "price"),
    [
        ("Ox is free and open source under the MIT License.", "Free", None),
        ("Start on the free tier. Paid plans start at $49 per month.", "Freemium", "$49 per month"),
        ("Usage costs $0.18 per 1M input tokens and $0.40 per 1M output tokens.", "Paid", "$0.18 per 1M input tokens"),
        ("Open weights are free to download; the hosted API charges $2 per 1M tokens.", "Freemium", "$2 per 1M tokens"),
        ("Ox reads files.", "Unknown", None),
    ],
)
def test_pricing_and_starting_price(text: str, pricing: str, price: str | None) -> None:
    inference, found = infer_pricing(text)
    assert inference.value == pricing
    assert (found.label() if found else None) == price
    if found:
        assert found.quote in text


def test_a_bare_amount_is_not_a_price() -> None:
    assert starting_price("Set max_cost=$10 to stop a runaway loop.") is None


@pytest.mark.parametrize(
    ("text", "license_id"),
    [
        ("Released under the Apache License, Version 2.0.", "Apache-2.0"),
        ("Ox is BSD-3-Clause licensed.", "BSD-3-Clause"),
        ("The weights are available under the Wardline Open Model License.", "Wardline Open Model License"),
        ("Ox reads files.", None),
    ],
)
def test_license(text: str, license_id: str | None) -> None:
    assert infer_license(text) == license_id


def test_name_from_title_or_url() -> None:
    assert tool_name("Driftwell: Serverless Vector Search API", "https://x.test/") == "Driftwell"
    assert tool_name(None, "https://raw.githubusercontent.com/encode/httpx/master/README.md") == "httpx"
    assert tool_name(None, "https://docs.example.com/tools/quillpad/index.html") == "quillpad"
    # An image's alt text as the title: the name is before the logo words and a full stop.
    assert tool_name("gizmo. new logo", "file:///data/gizmo-1.2.md") == "gizmo"
    # An alt text that is only "Logo" leaves no name: the file's is used.
    assert tool_name("Logo", "file:///data/gizmo-1.2.rst") == "gizmo"
    assert tool_name("Gizmo official logo", "https://x.test/") == "Gizmo"
    # A release number or a document word after the name is not part of it; a model's size is.
    assert tool_name("Gizmo v 9.1.0", "https://x.test/") == "Gizmo"
    assert tool_name("Gizmo Overview", "https://x.test/") == "Gizmo"
    assert tool_name("Wardline Guard 8B", "https://x.test/") == "Wardline Guard 8B"


def test_summary_prefers_the_self_description() -> None:
    text = "Fast. Really.\n\nOx is a library for parsing logs quickly.\n"
    assert summary(segment(text)) == "Ox is a library for parsing logs quickly."


def test_the_currency_of_a_price_is_read_from_its_quote() -> None:
    # The LLM is not asked for a currency: the quote that states the price states it too.
    assert currency_in("Input costs $0.18 per 1M tokens.") == "USD"
    assert currency_in("Teams: 9 EUR per seat and month") == "EUR"
    assert currency_in("From €5 a month") == "EUR" and currency_in("£4 per user") == "GBP"
    assert currency_in("Free for open-source projects") is None


def test_a_slogan_title_gives_way_to_the_repository_or_file_name() -> None:
    from capmatch.extractor.classify import tool_name

    assert tool_name("The Multimodal AI Lakehouse", "https://github.com/lancedb/lancedb") == "lancedb"
    assert tool_name("CONTRIBUTIONS ONLY", "file:///data/voluptuous.md") == "voluptuous"
    # A section heading or a badge's call to action is not the tool's name; a release file's version is not either.
    assert tool_name("Key Features", "file:///cache/datasets-5.2.0.md") == "datasets"
    assert tool_name("Join chatroom", "file:///cache/trio-0.35.0.rst") == "trio"
    # A navigation label heading a page that opens with badges, then its link list.
    assert tool_name("Quick links", "file:///cache/gauge-2.1.0.rst") == "gauge"
    assert tool_name("Table of Contents", "https://github.com/acme/widget") == "widget"
    assert tool_name("Links", "https://github.com/acme/widget") == "widget"
    assert tool_name(None, "file:///cache/pgcli-4.7.1.rst") == "pgcli"
    assert tool_name("Overview", "https://github.com/acme/widget") == "widget"
    assert tool_name("PycURL -- A Python Interface To The cURL library", "https://example.org/x") == "PycURL"
    assert tool_name("Litestar Logo - Light", "https://github.com/litestar-org/litestar") == "Litestar"
    assert tool_name("Lodestar DB", "https://lodestar.example/docs/overview") == "Lodestar DB"
    assert tool_name("The Multimodal AI Lakehouse", "https://example.org/") == "The Multimodal AI Lakehouse"


def test_a_leading_html_h1_is_the_title_of_a_markdown_readme() -> None:
    from capmatch.extractor.clean import clean

    page = '<h1 align="center">Widgetly</h1>\n\nWidgetly renders widgets.\n\n# Changelog\n\n- 1.0: first release\n'
    assert clean(page, "markdown").title == "Widgetly"
