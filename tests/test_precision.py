"""Passages that read like capabilities but are not, found on unseen pages (issue 10, precision 1.8):
denied lists, another product's section, navigation items, vacuous lines."""

from __future__ import annotations

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.extractor.decompose.extractive import ClaimContext, _is_noise, not_a_claim
from capmatch.extractor.sections import classify_section
from capmatch.extractor.segment import Block

from .test_decompose import decompose_markdown


def _section(*path: str) -> str:
    return classify_section(Block("paragraph", 0, 0, "", section=path), asides=True)


def _quotes(text: str, name: str, embedder: SentenceTransformerEmbedder) -> set[str]:
    return {e.quote for c in decompose_markdown(text, name, embedder) for e in c.evidence}


def test_the_items_of_a_denied_list_are_not_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    """ "Not supported:" or "… are not:" heads a list of denials, however affirmative each item reads;
    "features that are missing from the standard library:" still announces features."""
    text = (
        "# Tessel\n\nTessel is a terminal widget toolkit for Python. Tessel brings many features that are "
        "missing from the standard library:\n\n- Mouse tracking in every widget.\n- Scrollable list boxes.\n"
        "- Bracketed paste handling.\n\n## Platform notes\n\nOn macOS everything works out of the box.\n\n"
        "- Not supported on BSD:\n- Sixel image rendering and the related canvas API\n"
        "- Pseudo-terminal embedding with full resize support\n"
        "- Extras:\n- A curses fallback display for old terminals\n\n"
        "The core widgets and the asyncio loop are supported. Some display backends are not:\n\n"
        "- The framebuffer display with hardware cursors\n- The web display over websockets\n"
    )
    quotes = _quotes(text, "Tessel", embedder)
    assert any("Mouse tracking" in q for q in quotes) and any("Bracketed paste" in q for q in quotes), quotes
    assert not any("Sixel" in q or "Pseudo-terminal" in q for q in quotes), quotes
    assert not any("framebuffer" in q or "web display" in q for q in quotes), quotes
    assert any("curses fallback" in q for q in quotes), quotes  # the next intro ends the denied run


def test_marked_and_restricted_items_are_not_claims() -> None:
    context = ClaimContext("Tessel")
    assert not_a_claim("❌ Unsupported: glib and zmq event loops", context)
    assert not_a_claim("⚠️ Limited: twisted support may have issues", context)
    assert not_a_claim("Only UTF-8 output mode is supported.", context)
    assert not_a_claim("The curses display incorrectly handles fast mouse input.", context)
    assert not_a_claim("Like any linter it is limited by what it can see statically.", context)
    assert not not_a_claim("✅ Supported: asyncio and trio event loops", context)
    assert not not_a_claim("Reads many formats, including but not limited to CSV and Parquet.", context)


def test_a_section_whose_subject_is_another_product_is_skipped(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Swarmer\n\nSwarmer is a load testing tool for HTTP services. Swarmer runs each simulated user in "
        "its own coroutine.\n\n## Live dashboard\n\nSwarmer has a web dashboard that shows response times "
        "in real time.\n\n## Managed runs\n\nCloudora offers a managed service that lets you run Swarmer tests "
        "at scale.\n\n- Elastic capacity with no servers to host yourself\n"
        "- Per-region latency breakdowns for apps hosted on Cloudora\n- Billing alerts for long test runs\n"
    )
    quotes = _quotes(text, "Swarmer", embedder)
    assert any("web dashboard" in q for q in quotes), quotes
    assert not any("Cloudora" in q or "Elastic capacity" in q or "Billing alerts" in q for q in quotes), quotes


def test_notices_screenshots_and_where_to_get_it_are_asides() -> None:
    for heading in ("Known limitations", "Caveats", "Not supported", "Screenshots", "Ok, how do I get it?"):
        assert _section(heading) == "skip", heading
    assert _section("We stand with our users") == "skip"
    assert _section("Weighted search") != "skip"
    assert _section("Features") == "feature"


def test_reader_steps_asides_and_the_projects_policies_are_not_claims() -> None:
    context = ClaimContext("Tessel")
    assert not_a_claim("If the install fails, you might need to run the command with sudo.", context)
    assert not_a_claim("But let's be honest, you will like it here.", context)
    assert not_a_claim("We follow the official support cycle of Python.", context)
    assert not_a_claim("We ask users to pin the revision of the repositories they use.", context)
    assert not not_a_claim("Tessel might need fewer redraws thanks to damage tracking.", context)


def test_a_list_set_up_as_an_example_is_not_one_capability(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Rowan\n\nRowan is a library for SQL databases in Python. Rowan maps tables to typed classes.\n\n"
        "## Example\n\nImagine you have a SQL table called crew with these columns:\n\n"
        "- crew id and primary key\n- crew name as text\n- crew rank as integer\n"
    )
    quotes = _quotes(text, "Rowan", embedder)
    assert any("SQL databases" in q for q in quotes), quotes
    assert not any("Imagine" in q or "crew" in q for q in quotes), quotes


def test_vacuous_praise_is_not_a_claim_but_what_the_tool_is_stays() -> None:
    context = ClaimContext("Tessel")
    assert not_a_claim("It is designed to be intuitive, easy to use, highly compatible, and robust.", context)
    assert not_a_claim("It's extremely fast, cost-effective, scalable and painless.", context)
    assert not_a_claim("The widget system offered by Tessel is extremely powerful.", context)
    assert not_a_claim("Full support for all optional features.", context)
    assert not not_a_claim("Tessel is a fast, robust terminal toolkit.", context)
    assert not not_a_claim("It is compatible with asyncio and trio.", context)
    assert not not_a_claim("Support for all ANSI colour modes.", context)


def test_pointers_placeholders_and_install_notes_are_noise() -> None:
    context = ClaimContext("Tessel")
    assert _is_noise("If you're impatient, here's a simple echo server example.", context)
    assert _is_noise("`<rule_id>` is one of the available rule identifiers", context)
    assert _is_noise("All extras (curses, zmq, trio) can be installed.", context)
    assert not _is_noise("Tessel renders <table> elements as scrollable grids.", context)
    assert not _is_noise("Here the scheduler keeps one lock per queue.", context)


def test_api_steps_defaults_costs_and_likenesses_are_not_claims() -> None:
    context = ClaimContext("Tessel")
    assert _is_noise("When querying, specify the number of probes (1 by default).", context)
    assert _is_noise("Set the temperature of the generation", context)
    assert not_a_claim("Since scanning a large part of the index is expensive, there are options to stop.", context)
    assert not_a_claim("With filters, queries can return fewer results than asked for.", context)
    assert not_a_claim("At first sight Tessel might remind you of curses.", context)
    assert not_a_claim("And it's intended to be the Tessel of web pages.", context)
    assert not_a_claim("The notebook can run on a free GPU runtime.", context)
    assert _is_noise("These benchmarks will be run weekly and the results will be posted.", context)
    assert _is_noise("Additionally, the Tessel starter repository can give you an idea of a full app.", context)
    # What stays a capability.
    assert not _is_noise("Smart completion (enabled by default) suggests column names.", context)
    assert not _is_noise("Tessel ships a command line interface for recording sessions.", context)
    assert not not_a_claim("Tessel runs the same app in a terminal or the browser.", context)


def test_a_denied_scope_and_powering_another_product_are_not_claims() -> None:
    context = ClaimContext("Tessel")
    assert not_a_claim("Its code base is kept small and doesn't solve everything out of the box.", context)
    assert not_a_claim("Tessel also powers Cloudora Studio, the hosted platform for terminal apps.", context)
    assert not not_a_claim("Tessel powers its layout engine with a constraint solver.", context)


def test_further_reading_lists_and_link_sections_are_not_capabilities(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """A list introduced as places to read ("For more details, see:") and sections of links or of other
    tools ("Quick links", "Similar projects", "Alternatives") give no capability; a feature list does."""
    text = (
        "# Gauge\n\nGauge is a metrics collector for Python services. Gauge exports counters and histograms "
        "over HTTP.\n\n## Features\n\n- Histogram buckets tuned per metric\n- Push gateway support for batch jobs\n"
        "- Label cardinality limits\n\nFor more details on the exposition format, see:\n\n"
        "- The exposition format reference page\n- The guide to naming metrics and labels well\n\n"
        "## Quick links\n\n- Hosted dashboard templates for every metric type\n- Alerting rule cookbook\n\n"
        "## Similar projects\n\nStatsline aggregates metrics over UDP with sampling on the client side.\n"
    )
    quotes = _quotes(text, "Gauge", embedder)
    assert any("Push gateway" in q for q in quotes) and any("cardinality" in q for q in quotes), quotes
    assert not any("exposition format reference" in q or "naming metrics" in q for q in quotes), quotes
    assert not any("dashboard templates" in q or "cookbook" in q for q in quotes), quotes
    assert not any("Statsline" in q for q in quotes), quotes
    assert _section("Useful resources") == "skip" and _section("Alternatives") == "skip"
    assert _section("Similar projects") == "skip" and _section("Gauge alternatives") == "skip"
    assert _section("Storage backends") != "skip"


def test_api_reference_entries_and_the_case_for_a_standard_are_not_capabilities(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """Entries of an API reference ("on_connect(): called when …", "max_size: …") document one function
    or parameter; a "Why X?" section that never names the tool argues for X, not for the tool."""
    assert _is_noise("on_connect(): called when the broker answers the connection request")
    assert _is_noise("max_queue_size: the number of messages buffered before publishing blocks")
    assert _is_noise("loop.sock_connect: the coroutine used to open the socket")
    assert not _is_noise("Node.js: a binding for the same engine ships separately")
    assert not _is_noise("timeout=30: requests give up after thirty seconds by default")
    text = (
        "# Hopper\n\nHopper is a message broker client for Python. Hopper reconnects automatically when the "
        "broker goes away.\n\n## Why AMQP?\n\nAMQP is an open wire protocol with routing built in. Open "
        "standards let brokers from different vendors interoperate.\n\n## Connection events\n\n"
        "- on_connect(): called when the broker accepts the connection\n"
        "- on_disconnect(): called when the connection is lost\n- on_message(): called for every delivery\n"
    )
    quotes = _quotes(text, "Hopper", embedder)
    assert any("reconnects automatically" in q for q in quotes), quotes
    assert not any("routing built in" in q or "interoperate" in q for q in quotes), quotes
    assert not any("on_disconnect" in q or "on_message" in q for q in quotes), quotes


def test_walkthrough_reader_and_code_headings_and_release_routines_name_nothing(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """ "Example usages", "Use Pgwire in your code" and "loop_forever()" do not name capabilities; release
    routines, caveats under other names, talks and "Python support" are asides; a version line about
    support is a requirement, while "a Python 3.10+ web server" says what the tool is."""
    text = (
        "# Pgwire\n\nPgwire is a PostgreSQL driver for asyncio.\n\n## Example usages\n\n"
        "This shows the whole API in one place and returns rows as tuples.\n\n"
        "```python\nrows = await conn.fetch(q)\n```\n\n"
        "## Use Pgwire in your code\n\nPgwire streams query results row by row.\n\n"
        "```python\nasync for r in c: ...\n```\n\n"
        "## loop_forever()\n\nThis blocks and handles reconnects automatically.\n\n"
        "```python\nclient.loop_forever()\n```\n"
    )
    names = {c.name.lower() for c in decompose_markdown(text, "Pgwire", embedder)}
    assert not any("example" in n or "your code" in n or "loop_forever" in n for n in names), names
    from capmatch.extractor.decompose.extractive import _not_a_feature_heading

    assert _not_a_feature_heading("`client.publish`", "client.publish")
    assert not _not_a_feature_heading("Node.js", "Node.js") and not _not_a_feature_heading("Socket.IO", "Socket.IO")
    asides = ("Making releases", "Security considerations", "Additional issues", "Talk", "Python support")
    for heading in (*asides, "Relation to other datasets"):
        assert _section(heading) == "skip", heading
    assert _section("Release notes") == "skip" and _section("Connection pooling") != "skip"
    context = ClaimContext("Sanic")
    assert not_a_claim("Supported Python versions are CPython 3.6+ and PyPy.", context)
    assert not_a_claim("Pgwire is compatible with Python 3.10 to 3.14.", context)
    assert not not_a_claim("Sanic is a Python 3.10+ web server and web framework that is written to go fast.", context)


def test_where_the_project_is_discussed_and_sample_code_are_not_capabilities() -> None:
    """Venues for questions, source and bugs are links; "Sample code …" sections walk through usage."""
    context = ClaimContext("Cronlet")
    for line in (
        "Use StackOverflow to ask questions and include a cronlet tag.",
        "The source can be browsed at Github.",
        "A bug tracker is provided by Github.",
        "GitHub Discussions is the place for ideas and questions.",
        "Utilize the pre-prompt hook to ask questions before the template renders.",
    ):
        assert _is_noise(line, context), line
    assert not _is_noise("Cronlet stores jobs in PostgreSQL, Redis or MongoDB.", context)
    assert not _is_noise("Load datasets from the Hub or from local files with one call.", context)
    assert _section("Sample code with scikit-learn") == "low"
    assert _is_noise("It is the platform of choice to make one-time or recurring donations to the project.", context)
    assert _is_noise("Daniel Bader - @dbader_org - mail@dbader.org.", context)
    # How a benchmark was run is method; the result it supports is the claim.
    assert _is_noise("The above results are a geometric mean of benchmarks obtained with pgbench.", context)
    assert not _is_noise("In our testing Cronlet is, on average, 5x faster than cron.", context)


def test_why_not_sections_and_what_is_another_thing_are_not_capabilities(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """ "Why shouldn't I use X?" lists when to pick something else; "What is a QR code?" on a QR library's
    page explains the format, not the tool."""
    assert _section("Why shouldn't I use websockets?") == "skip" and _section("Why not Celery?") == "skip"
    assert _section("Why should I use websockets?") == "feature"
    text = (
        "# Squarely\n\nSquarely generates QR codes from Python. Squarely renders codes as SVG, PNG or text.\n\n"
        "## What is a QR code?\n\nA QR code is a two-dimensional barcode with error correction built in. "
        "Phones decode the information encoded in it with their camera.\n"
    )
    quotes = _quotes(text, "Squarely", embedder)
    assert any("generates QR codes" in q for q in quotes), quotes
    assert not any("two-dimensional barcode" in q or "information encoded" in q for q in quotes), quotes


def test_a_framing_phrase_does_not_hide_a_negated_main_clause() -> None:
    """ "In essence, kqueue is not a scalable way …" is negated after its frame; "Streaming uploads, so
    bodies don't have to fit in memory" and "X offers suggestions, but doesn't enforce …" are not."""
    context = ClaimContext("Watchful")
    assert not_a_claim("In essence, kqueue is not a very scalable way to monitor nested directories.", context)
    assert not not_a_claim("Out of the box, Watchful watches nested directories recursively.", context)
    assert not not_a_claim("Streaming uploads and downloads, so large bodies don't have to fit in memory.", context)
    assert not not_a_claim("Watchful offers suggestions, but doesn't enforce any project layout.", context)
    # A problem named as one is a limitation.
    assert not_a_claim("This is an inherent problem with kqueue because it uses file descriptors.", context)
    assert not_a_claim("The bookkeeping just makes this a painful way to monitor files.", context)
    assert not not_a_claim("Watchful solves the problem of missed events with a polling fallback.", context)


def test_a_cap_on_the_input_is_a_limitation() -> None:
    context = ClaimContext("Crypter")
    assert not_a_claim(
        "The algorithm only handles passwords up to 72 characters, any characters beyond that are ignored.", context
    )
    assert not_a_claim("Keys longer than the block size are silently truncated.", context)
    assert not not_a_claim("Crypter hashes passwords with an adjustable work factor of up to 31 rounds.", context)


def test_a_heading_over_a_limit_is_not_a_feature(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Crypter\n\nCrypter hashes passwords.\n\n## Adjustable Work Factor\n\n"
        "One of Crypter's features is an adjustable logarithmic work factor.\n\n"
        "## Maximum Password Length\n\nThe algorithm only handles passwords up to 72 characters, any characters "
        "beyond that are ignored. To work around this, hash the password with SHA-256 first.\n"
    )
    names = {c.name for c in decompose_markdown(text, "Crypter", embedder)}
    assert "Adjustable Work Factor" in names and "Maximum Password Length" not in names, names


def test_advice_for_one_setting_is_not_a_feature_heading() -> None:
    from capmatch.extractor.decompose.extractive import _not_a_feature_heading

    assert _not_a_feature_heading("Using Keyring on Ubuntu 16.04", "Using Keyring on Ubuntu 16.04", "keyring")
    assert _not_a_feature_heading("Running Keyring in Docker", "Running Keyring in Docker", "keyring")
    assert not _not_a_feature_heading("Keyring backends", "Keyring backends", "keyring")


def test_a_negation_after_a_discourse_word_and_maintainers_sections() -> None:
    context = ClaimContext("Bundler")
    assert not_a_claim("However, it is not a cross-compiler: to make a Windows app you run it on Windows.", context)
    assert not not_a_claim("However, Bundler supports Windows, macOS and Linux.", context)
    assert _section("Bundler", "Survey") == "skip"
    assert _section("Bundler", "Local dev") == "skip"
    assert _section("Bundler", "Surveying land") != "skip"


def test_a_release_news_section_is_a_changelog() -> None:
    assert _section("Gizmo", "What is new?") == "skip"
    assert _section("Gizmo", "What's new in 2.0") == "skip"
    assert _section("Gizmo", "Changelog", "Usage") != "skip"
