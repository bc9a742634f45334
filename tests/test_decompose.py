"""The extractive decomposer on our fixtures and on real READMEs from ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.errors import NoCapabilities
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose import SourceDocument
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer, _is_noise
from capmatch.extractor.fetch import EXTENSIONS
from capmatch.extractor.naming import STOPWORDS
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import verify

from .conftest import FIXTURES, PAGES, SHARED_DATA, require_shared


def decompose_file(path: Path, embedder: SentenceTransformerEmbedder, name: str | None = None):  # type: ignore[no-untyped-def]
    doc = clean(path.read_text(encoding="utf-8"), EXTENSIONS[path.suffix])
    source = SourceDocument(
        doc.text, doc.title, name or doc.title or path.stem, path.as_uri(), doc.format, segment(doc.text)
    )
    drafts = ExtractiveDecomposer(embedder).decompose(source)
    return doc, drafts, verify(drafts, doc.text)


@pytest.mark.parametrize("path", sorted((FIXTURES / "docs").iterdir()), ids=lambda p: p.name)
def test_fixture_docs_give_grounded_named_capabilities(path: Path, embedder: SentenceTransformerEmbedder) -> None:
    doc, _, caps = decompose_file(path, embedder)
    assert 3 <= len(caps) <= 25
    for cap in caps:
        assert cap.grounded, cap.name
        for evidence in cap.evidence:
            assert doc.text[evidence.start : evidence.end] == evidence.quote
        words = cap.name.split()
        assert 1 <= len(words) <= 8, cap.name
        assert words[-1].lower() not in STOPWORDS, cap.name
        assert len(cap.name) < len(cap.description), cap.name
    assert len({c.name.lower() for c in caps}) == len(caps)


def test_decomposition_is_deterministic(embedder: SentenceTransformerEmbedder) -> None:
    path = FIXTURES / "docs" / "clearsignal.html"
    assert decompose_file(path, embedder)[1] == decompose_file(path, embedder)[1]


def test_feature_list_items_become_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    _, _, caps = decompose_file(PAGES / "tiny.md", embedder)
    descriptions = " ".join(c.description for c in caps)
    assert "Embeds fonts so documents look the same on every machine." in descriptions
    assert "Streams large documents page by page with constant memory." in descriptions
    assert not any("BSD-3-Clause" in c.description for c in caps)  # licence lines are not capabilities


def test_near_duplicates_are_merged_with_both_quotes(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    page = tmp_path / "dupe.md"
    page.write_text(
        "# Sieve\n\nSieve is a Python library for filtering log lines.\n\n## Features\n\n"
        "- Filters log lines by regular expression.\n- Filter log lines using regular expressions.\n"
        "- Writes matches to compressed archives.\n- Tails files that are still being written.\n"
    )
    _, _, caps = decompose_file(page, embedder)
    merged = [c for c in caps if "regular expression" in c.description]
    assert len(merged) == 1
    assert len(merged[0].evidence) == 2


def test_a_page_without_capability_text_is_refused(embedder: SentenceTransformerEmbedder) -> None:
    with pytest.raises(NoCapabilities, match="no capability-bearing text found"):
        decompose_file(PAGES / "no-capabilities.html", embedder)


@pytest.mark.shared_data
def test_real_readmes_from_shared_data(embedder: SentenceTransformerEmbedder) -> None:
    index = SHARED_DATA / "vendor-docs" / "index.jsonl"
    require_shared(index)
    rows = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
    counts = {}
    for row in rows:
        doc, _, caps = decompose_file(SHARED_DATA / "vendor-docs" / row["file"], embedder, row["name"])
        counts[row["name"]] = len(caps)
        assert 1 <= len(caps) <= 25, row["name"]
        for cap in caps:
            assert cap.grounded
            for evidence in cap.evidence:
                assert doc.text[evidence.start : evidence.end] == evidence.quote
    # Thin pages (django, dramatiq: 2-3 gold capabilities each) are not padded, so a few have fewer than 3.
    assert sum(n >= 3 for n in counts.values()) >= 0.8 * len(rows), counts


def test_injected_instructions_are_not_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    _, _, caps = decompose_file(PAGES / "injection.md", embedder)
    assert caps and all(c.grounded for c in caps)
    assert not any("INSTRUCTIONS" in c.description.upper() or "diseases" in c.description for c in caps)


def test_a_one_line_description_is_one_capability(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    page = tmp_path / "desc.txt"
    page.write_text("Django backend agent skills for Django, DRF, Celery, and Django-specific code review.\n")
    _, _, caps = decompose_file(page, embedder, "django-ai-plugins")
    assert len(caps) == 1 and caps[0].grounded
    assert caps[0].description.startswith("Django backend agent skills")


def decompose_markdown(text: str, name: str, embedder: SentenceTransformerEmbedder):  # type: ignore[no-untyped-def]
    """Markdown as the cleaner leaves it, segmented directly: these pages are too short for the
    cleaner's content detection to keep their structure."""
    source = SourceDocument(text, name, name, f"file:///{name}.md", "markdown", segment(text))
    return verify(ExtractiveDecomposer(embedder).decompose(source), text)


def test_an_announced_list_gives_one_capability_per_item(embedder: SentenceTransformerEmbedder) -> None:
    """ "Quillmark supports:" presents features, one each; "Supported export formats are:" lists the values
    of one feature, which stay one capability."""
    caps = decompose_markdown(
        "# Quillmark\n\nQuillmark is a note-taking server for small teams.\n\nQuillmark supports:\n\n"
        "- Full-text search.\n- Offline editing.\n- Shared notebooks.\n- Version history.\n\n"
        "## Export\n\nSupported export formats are:\n\n- PDF\n- HTML\n- EPUB\n",
        "Quillmark",
        embedder,
    )
    quotes = [e.quote for c in caps for e in c.evidence[:1]]
    for item in ("Full-text search.", "Offline editing.", "Shared notebooks.", "Version history."):
        assert item in quotes, (item, quotes)
    formats = [c for c in caps if any(e.quote in ("PDF", "HTML", "EPUB") for e in c.evidence)]
    assert len(formats) == 1, [c.name for c in caps]


def test_tutorial_narration_and_adjective_labels(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# Loomer\n\nLoomer renders charts from SQL queries.\n\n## Highlights\n\n"
        "- Fast: renders a million points in under a second.\n- Dashboards: shareable dashboards with filters.\n"
        "- Alerts: sends an email when a metric crosses a threshold.\n\n"
        "## Walkthrough\n\nNow, let us create the first chart from a query.\n"
        "We start with a table that holds the daily sales figures.\n",
        "Loomer",
        embedder,
    )
    texts = " ".join(e.quote for c in caps for e in c.evidence)
    assert "let us create" not in texts and "We start with" not in texts
    names = [c.name for c in caps]
    assert "Fast" not in names, names
    assert any("million" in n.lower() or "point" in n.lower() for n in names), names
    assert "Dashboards" in names, names


def test_one_sentence_naming_several_features_gives_several() -> None:
    from capmatch.extractor.coordination import feature_items
    from capmatch.extractor.segment import Span

    def items(text: str) -> list[str]:
        return [s.text for s in feature_items(Span(text, 100, 100 + len(text)))]

    assert items("It supports periodic tasks, retries, arbitrary task locks etc.") == [
        "periodic tasks",
        "retries",
        "arbitrary task locks",
    ]
    assert items("Tallyho offers row-level locking, online backups, and point-in-time recovery.") == [
        "row-level locking",
        "online backups",
        "point-in-time recovery",
    ]
    # The values of one feature, a prepositional phrase, a perfect tense, a contrast: one capability.
    assert items("It comes with builtin support for Redis, Postgres, Sqlite and in-memory storage.") == []
    assert items("It supports Redis, Postgres, Sqlite and MySQL.") == []
    assert items("It has been adopted in industry, open-source projects and academia.") == []
    assert items("It offers suggestions, but doesn't enforce dependencies or project layout.") == []
    assert items("It supports retries and timeouts.") == []  # two items: a sentence, not a list


def test_split_features_quote_their_own_words(embedder: SentenceTransformerEmbedder) -> None:
    text = (
        "# Tallyho\n\nTallyho is a database server. "
        "It offers row-level locking, online backups, and point-in-time recovery.\n"
    )
    caps = decompose_markdown(text, "Tallyho", embedder)
    quotes = {e.quote for c in caps for e in c.evidence}
    assert {"row-level locking", "online backups", "point-in-time recovery"} <= quotes, [c.name for c in caps]


def test_sentences_about_other_things_are_not_claims() -> None:
    from capmatch.extractor.decompose.extractive import not_a_claim

    for sentence in (
        "Most guard models released so far accept text only.",
        "Various prompt engineering techniques have been introduced to improve robustness.",
        "A single-backend queue such as EmberQ is easier to run.",
        "Now, let us create the page header.",
        "We start with a simple function which generates text.",
        "Tallyho does not retry failed requests on its own.",
    ):
        assert not_a_claim(sentence, "Tallyho"), sentence
    for sentence in (
        "Most of the available indexing structures trade speed for memory.",  # partitive: its own parts
        "Tallyho retries failed requests with exponential backoff.",
        "You can also run different workers for different queues.",
    ):
        assert not not_a_claim(sentence, "Tallyho"), sentence


def test_the_page_opening_line_is_a_capability_without_a_feature_word(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# Tallyho\n\nTallyho - the open-source ledger for small shops.\n\n## Features\n\n"
        "- Double-entry bookkeeping with audit trails.\n- Multi-currency accounts and exchange rates.\n"
        "- Monthly reports exported to PDF.\n",
        "Tallyho",
        embedder,
    )
    assert any("open-source ledger" in e.quote for c in caps for e in c.evidence), [c.name for c in caps]


def test_a_compound_adjective_is_not_an_instruction() -> None:
    from capmatch.extractor.decompose.extractive import INSTRUCTION

    assert INSTRUCTION.match("Open-source vector similarity search for Postgres") is None
    assert INSTRUCTION.match("Open the settings page and click Save.") is not None


def test_the_readers_needs_are_not_claims() -> None:
    """ "You need …", "You should …", "You want …": the reader's situation or duty, not the tool's feature."""
    from capmatch.extractor.decompose.extractive import not_a_claim

    for sentence in (
        "You need to check spelling before the letter is posted.",
        "You should set the `TALLYHO_TOKEN` variable with your key.",
        "Or you want a quick estimate that sends only hard cases to an accountant.",
    ):
        assert not_a_claim(sentence, "Tallyho"), sentence
    assert not not_a_claim("You can export every ledger to a spreadsheet.", "Tallyho")


def test_the_main_clause_after_a_condition_decides() -> None:
    """After "If …," the main clause is what the sentence says: advice or another product is not a claim."""
    from capmatch.extractor.decompose.extractive import not_a_claim

    for sentence in (
        "If you keep accounts for a large firm, read the migration guide first.",
        "If you only need receipts, a spreadsheet such as Gridly costs nothing.",
        "When the ledger is large, Tallyho does not keep it in memory.",
    ):
        assert not_a_claim(sentence, "Tallyho"), sentence
    for sentence in (
        "If a payment fails, Tallyho retries it the next morning.",
        "If you want reports later, you can schedule them.",
    ):
        assert not not_a_claim(sentence, "Tallyho"), sentence


def test_elaborations_and_definitions_are_not_claims() -> None:
    """ "This means that …", "In this case, …" explain the previous sentence; "A ledger is a …" defines a
    term; the capability is stated elsewhere."""
    from capmatch.extractor.decompose.extractive import not_a_claim

    for sentence in (
        "This means that the totals can be checked by hand at any time.",
        "In this case, the report groups invoices by customer.",
        "Afterwards, almost every entry is balanced.",
        "A journal is a Python object registered with `@book.journal`.",
        "An account is the place where entries of one kind are collected.",
    ):
        assert not_a_claim(sentence, "Tallyho"), sentence
    for sentence in (
        "Tallyho is a ledger for small shops.",
        "The report groups invoices by customer.",
    ):
        assert not not_a_claim(sentence, "Tallyho"), sentence


def test_a_denial_after_but_a_precondition_and_a_pointer_are_not_claims() -> None:
    """ "…, but it does not …", "so we don't support …", "X assumes …", "You can also try out …": a limit,
    a precondition or a pointer; a negation after "so" that states a benefit still counts."""
    from capmatch.extractor.decompose.extractive import not_a_claim

    for sentence in (
        "Tallyho checks every total, but it does not guarantee that the totals are right.",
        "Tallyho is a small project, so we don't support Windows but it should work.",
        "Tallyho assumes entries arrive in order.",
        "You can also try out their reporting modes!",
        "A major release sheds off the old, minor releases ship new features.",
    ):
        assert not_a_claim(sentence, "Tallyho") or _is_noise(sentence, "Tallyho"), sentence
    for sentence in (
        "Tallyho streams the ledger, so large files don't have to fit in memory.",
        "Tallyho supports Windows, macOS and Linux.",
    ):
        assert not _is_noise(sentence, "Tallyho"), sentence


def test_the_tagline_and_what_the_tool_is_are_one_capability(embedder: SentenceTransformerEmbedder) -> None:
    """The opening's tagline and "<tool> is a …" both say what the tool is: one capability, not two."""
    from capmatch.extractor.decompose.extractive import _is_identity, not_a_claim

    assert _is_identity("Tallyho (read: tally-ho) is a ledger for small shops.", "Tallyho")
    assert _is_identity("`Tallyho`, despite the name, is a bookkeeping library.", "Tallyho")
    assert not _is_identity("Tallyho is written in Rust.", "Tallyho")
    assert not_a_claim("Without the flag it would be required.", "Tallyho")
    caps = decompose_markdown(
        "# Tallyho\n\nThe friendly ledger that balances itself.\n\n"
        "Tallyho is a double-entry bookkeeping library for small shops.\n\n## Features\n\n"
        "- Multi-currency accounts and exchange rates.\n- Monthly reports exported to PDF.\n"
        "- Audit trails for every entry.\n",
        "Tallyho",
        embedder,
    )
    identity = [c for c in caps if any("balances itself" in e.quote or "is a double" in e.quote for e in c.evidence)]
    assert len(identity) == 1, [c.name for c in caps]


def test_an_items_quote_ends_before_its_caveat() -> None:
    """ "X - parses dates. Note that this cannot …": the quote is the claim, not the caveat after it."""
    from capmatch.extractor.decompose.extractive import ClaimContext, _claim_part
    from capmatch.extractor.segment import Span

    text = "DateParser - parses dates in any locale. Note that this cannot read Roman numerals."
    assert _claim_part(Span(text, 10, 10 + len(text)), ClaimContext("Tallyho")).text == (
        "DateParser - parses dates in any locale."
    )
    whole = "Reports - monthly totals. They are exported to PDF."
    assert _claim_part(Span(whole, 0, len(whole)), ClaimContext("Tallyho")).text == whole


def test_plans_and_version_support_notes_are_not_claims() -> None:
    for sentence in (
        "We're working with select partners to develop new ledgers.",
        "We created a notebook which contains a full example.",
        "This is the last version of Tallyho which will support Python 3.9.",
        "So I use those records to check every total.",  # the author's voice
        "You can add totals by hand, or use a smaller ledger like Gridly if that is all you need.",
        "`post()` and `void()` can be seen as journal methods.",
        "Sometimes you want a report to run only once a day.",  # the reader's need
        "Cloning the repository",  # a contributor's step
        "Sharing one ledger between shops means entries of one shop can affect totals of the other.",
        "This is a hint for the bookkeeper, to change the prompt.",
    ):
        assert _is_noise(sentence, "Tallyho"), sentence
    from capmatch.extractor.decompose.extractive import ClaimContext

    # Another product's claim: "Gridly" is a name the page never writes in lower case.
    assert _is_noise("Gridly claims to balance faster than us.", ClaimContext("Tallyho", frozenset({"gridly"})))
    assert not _is_noise("It returns a fallback “I don’t know” answer when unsure.", "Tallyho")


def test_a_sentence_tail_after_an_abbreviation_is_a_fragment() -> None:
    from capmatch.extractor.decompose.extractive import _fragment

    assert _fragment("generating invoices for a particular company).", "Tallyho")
    assert not _fragment("tallyho supports invoices.", "tallyho")
    assert not _fragment("Invoices are generated monthly.", "Tallyho")


def test_sections_on_what_the_tool_is_not_are_skipped() -> None:
    from capmatch.extractor.sections import classify_section
    from capmatch.extractor.segment import Block

    for heading in ("When not to use Tallyho", "What Tallyho is not", "Third-Party Bindings", "Pre-built Example Apps"):
        block = Block("paragraph", 0, 0, "Tallyho is not a bank.", section=("Tallyho", heading))
        assert classify_section(block, asides=True) == "skip", heading
        assert classify_section(block) != "skip", heading  # the LLM backend's condensed page keeps it


def test_troubleshooting_sections_are_skipped() -> None:
    from capmatch.extractor.sections import classify_section
    from capmatch.extractor.segment import Block

    block = Block(
        "paragraph", 0, 0, "Rebuild the cache until it has more entries.", section=("Tallyho", "Troubleshooting")
    )
    assert classify_section(block) == "skip"


def test_a_code_only_section_under_an_instruction_heading_is_no_capability(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """ "Run it" or "Cite Tallyho" over a code block is a step or a citation, not a feature; "Monthly
    reports" over a code block names one."""
    caps = decompose_markdown(
        "# Tallyho\n\nTallyho is a ledger for small shops that supports double-entry bookkeeping.\n\n"
        "## Monthly reports\n\n```python\nbook.report(month=3)\n```\n\n"
        "## Run it\n\n```bash\ntallyho serve --port 8000\n```\n\n"
        "## Cite Tallyho\n\n```bibtex\n@misc{tallyho}\n```\n\n"
        "## Features\n\n- Multi-currency accounts with daily exchange rates.\n"
        "- Invoices exported to PDF and sent by email.\n",
        "Tallyho",
        embedder,
    )
    names = [c.name for c in caps]
    assert "Monthly reports" in names, names
    assert not any(n in ("Run it", "Cite Tallyho") for n in names), names


def test_a_later_sentence_restating_a_capability_of_its_section_joins_it(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """Under one heading, a sentence that goes on about the capability already taken becomes its
    evidence, not a second capability."""
    caps = decompose_markdown(
        "# Tallyho\n\nTallyho is a ledger for small shops.\n\n"
        "## Recurring invoices\n\nTallyho sends recurring invoices to customers on a schedule you set.\n\n"
        "Each recurring invoice is generated automatically and emailed on its due date.\n\n"
        "## Exchange rates\n\nIt stores daily exchange rates and converts every amount to your currency.\n\n"
        "## Reports\n\nTallyho exports monthly profit and loss reports to PDF.\n",
        "Tallyho",
        embedder,
    )
    recurring = [c for c in caps if "recurring" in " ".join(e.quote for e in c.evidence).lower()]
    assert len(recurring) == 1, [c.name for c in caps]


def test_a_setting_documented_with_its_default_is_no_capability(embedder: SentenceTransformerEmbedder) -> None:
    """Items that document a setting and its default value describe the feature's knobs, not features."""
    caps = decompose_markdown(
        "# Tallyho\n\nTallyho is a ledger for small shops that supports double-entry bookkeeping.\n\n"
        "## Rounding\n\nTallyho rounds every amount with a configurable rounding rule.\n\n"
        "- **mode** Rounding mode applied to each line of an invoice. Default: `half-even`.\n"
        "- **digits** Number of decimal digits kept for every stored amount. Default: `2`.\n\n"
        "## Features\n\n- Multi-currency accounts with daily exchange rates.\n"
        "- Invoices exported to PDF and sent by email.\n",
        "Tallyho",
        embedder,
    )
    quotes = " ".join(e.quote for c in caps for e in c.evidence)
    assert "Default:" not in quotes, [c.name for c in caps]
    assert "configurable rounding rule" in quotes, [c.name for c in caps]


def test_a_list_introduced_as_a_pointer_elsewhere_is_no_capability(embedder: SentenceTransformerEmbedder) -> None:
    """ "More worked examples can be found at:" points elsewhere: the intro is no capability and does not
    name its items as one; an item that states a feature ("The tutorial covers: …") still counts."""
    caps = decompose_markdown(
        "# Tallyho\n\nTallyho is a ledger for small shops that supports double-entry bookkeeping.\n\n"
        "## Features\n\n- Multi-currency accounts with daily exchange rates.\n"
        "- Invoices exported to PDF and sent by email.\n- Monthly profit and loss reports.\n\n"
        "## More\n\nMore worked examples can be found at:\n\n"
        "- https://example.org/tallyho/shop-example\n"
        "- https://example.org/tallyho/bakery-example\n\n"
        "The tutorial covers:\n\n"
        "- A reconciliation assistant that matches bank statements to invoices automatically.\n"
        "- Exporting the books\n",
        "Tallyho",
        embedder,
    )
    quotes = " ".join(e.quote for c in caps for e in c.evidence)
    assert "can be found" not in quotes and "bakery-example" not in quotes, [c.name for c in caps]
    assert "The tutorial covers" not in quotes, [c.name for c in caps]
    assert "reconciliation assistant" in quotes, [c.name for c in caps]


def test_sales_lines_and_picking_advice_are_noise() -> None:
    """ "X is a paid service", "X Ltd sells support contracts": commerce, read by classify; "Pick X if …",
    "Choose a number of …": advice to the reader."""
    from capmatch.extractor.decompose.extractive import _is_noise

    for sentence in (
        "Tallyho is a paid service with a free trial.",
        "Tallyho Ltd sells optional support contracts.",
        "Pick Tallyho if you would rather pay per invoice than run a server.",
        "Choose a rounding mode that matches your tax office.",
    ):
        assert _is_noise(sentence, "Tallyho"), sentence
    assert not _is_noise("Tallyho picks the exchange rate of the invoice date automatically.", "Tallyho")


def test_versioning_policy_and_shell_command_lines_are_noise() -> None:
    from capmatch.extractor.decompose.extractive import _is_noise

    for sentence in (
        "Since release 2.0, Tallyho is maintained according to semantic versioning.",
        "The ledger API has been stable since 1.0.",
        "export TALLYHO_DATA_DIR=/var/lib/tallyho",
        "python tools/check_books.py --year 2024",
    ):
        assert _is_noise(sentence, "Tallyho"), sentence
    assert not _is_noise("Tallyho keeps every version of an invoice and shows what changed.", "Tallyho")


def test_a_table_of_contents_and_a_denial_after_a_long_subject_are_not_capabilities(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """A README's linked outline repeats its own headings; each entry is read in its section."""
    page = tmp_path / "widgetly.md"
    page.write_text(TOC_PAGE)
    _, drafts, _ = decompose_file(page, embedder)
    quotes = [" ".join(d.quotes) for d in drafts]
    assert not any("not provided" in q for q in quotes), quotes
    assert not {d.quotes[0] for d in drafts} & {"Usage", "Types", "Performance", "License"}, quotes
    assert any("renders tables, trees" in q for q in quotes) and any("under 2 ms" in q for q in quotes)


TOC_PAGE = """# Widgetly

Widgetly renders widgets in the terminal with true colour.

Reading from and writing to files, sockets, and so on is not provided by the library.

- Usage
  - Install
  - Quickstart
  - Render
- Types
  - table
  - tree
- Performance
  - Latency
- License

## Usage

### Install

Install the package.

### Quickstart

Call `render()` on any widget.

### Render

Widgetly renders tables, trees and progress bars.

## Types

### table

Tables with sortable columns.

### tree

Trees that fold and unfold.

## Performance

### Latency

A frame renders in under 2 ms.

## License

MIT.
"""


def test_the_page_talking_about_itself_or_its_history_is_not_a_capability() -> None:
    from capmatch.extractor.decompose.extractive import _is_noise

    for text in (
        "The figure below shows a performance breakdown by language.",
        "There is a CHANGELOG available in the repository.",
        "This can be reproduced using the benchmark script.",
        "Prior to version 2, this library was known as widget-factories.",
        "Please use the Show and tell category in Discussions.",
        "This is possible because of the typing information available on the class.",
        "Widgetly's accuracy varies widely depending on the language.",
        "Competitors can still win individual measurements.",
    ):
        assert _is_noise(text, "Widgetly"), text
    assert not _is_noise("Widgetly is a general-purpose speech recognition model.", "Widgetly")


def test_the_projects_story_struck_claims_and_pointers_are_not_claims() -> None:
    for text in (
        "This work began as a weekend experiment in a university lab.",
        "Initially launched to index old newspapers, the package now serves many users.",
        "It was created by the same author as the web framework.",
        "Gizmo is a Dutch word for a small machine.",
        "Gizmo is an Example Foundation project.",
        "~~Twice as fast as the standard parser~~",
        "For the complete list of supported formats, see Formats.",
        "A ring buffer (or circular queue for short) is a structure that wraps around.",
        "It is robust and reasonably fast.",
        "Inspired by the twelve-factor methodology",
        "Now when you start the shell, it should be able to find the plugins.",
        "By reading the headers, the code enables automatic routing of each ticket.",
        "You process thousands of uploads a day and storage fees add up.",
    ):
        assert _is_noise(text, "Gizmo"), text
    assert not _is_noise("Gizmo parses nested archives and streams their entries.", "Gizmo")
    assert not _is_noise("Gizmo reads files inspired by the tar format.", "Gizmo")
    assert not _is_noise("You can stream archives straight from object storage.", "Gizmo")


def test_adopter_lists_and_not_for_lists_are_not_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# Gizmo\n\nGizmo is a command-line tool for compressing log archives.\n\n"
        "## Features\n\n- Parallel compression of large archives.\n- Incremental updates of existing archives.\n"
        "- Integrity checks on every read.\n\n"
        "Gizmo is actively developed and used in large open-source projects like:\n\n"
        "- [Acme Cloud](https://example.com/acme)\n- [Foobar Labs](https://example.com/foobar)\n"
        "- [Quux Systems](https://example.com/quux)\n\n"
        "Gizmo is probably not what you want if you need to:\n\n"
        "- Render archives as images -- consider Pictor\n- Edit spreadsheets inside archives -- consider Tabula\n\n"
        "## Who's Using Gizmo\n\nThe Example Weather Service compresses its radar logs with it every night.\n\n"
        "## Show Your Support\n\nAdd the Gizmo badge to your project's README to show that you use it.\n",
        "Gizmo",
        embedder,
    )
    quotes = " ".join(e.quote for c in caps for e in c.evidence)
    assert "Parallel compression of large archives." in quotes
    for absent in ("Acme Cloud", "Render archives", "Edit spreadsheets", "radar logs", "badge"):
        assert absent not in quotes, (absent, [c.name for c in caps])


def test_a_list_cataloguing_other_projects_is_not_capabilities(embedder: SentenceTransformerEmbedder) -> None:
    """Items that each introduce a different named thing by what it is belong to those things; a feature
    list whose items start with common nouns ("Storage is replicated") stays the tool's."""
    caps = decompose_markdown(
        "# Gizmo\n\nGizmo is a key-value store for embedded devices.\n\n"
        "## Features\n\n- Storage is replicated across flash banks.\n- Traffic is compressed on the wire.\n"
        "- Data is encrypted at rest with per-device keys.\n\n"
        "## Comparisons\n\nGizmo is compared below with three other projects.\n\n"
        "- zorbdb is a document database written in Rust with a query planner.\n"
        "- kvlite provides a dictionary interface over SQLite files.\n"
        "- mapstash.Store implements a persistent mapping with pluggable codecs.\n\n"
        "## Related\n\n- quarkcache extends the standard lru_cache with TTLs.\n"
        "- heapfile.Memory stores function results on disk.\n",
        "Gizmo",
        embedder,
    )
    quotes = " ".join(e.quote for c in caps for e in c.evidence)
    for present in ("Storage is replicated", "Traffic is compressed", "Data is encrypted"):
        assert present in quotes, (present, [c.name for c in caps])
    for absent in ("query planner", "dictionary interface", "pluggable codecs", "TTLs", "function results"):
        assert absent not in quotes, (absent, [c.name for c in caps])


def test_an_api_listing_gives_one_capability_not_one_per_function(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# Gizmo\n\nGizmo is a client library for a message broker.\n\n## Callbacks\n\n"
        "The client reports events through callbacks:\n\n"
        "- on_connect(): called when the broker accepts the connection.\n"
        "- on_message(): called when a message arrives from the broker.\n"
        "- on_publish(): called when a message has been delivered to the broker.\n"
        "- on_disconnect(): called when the connection is closed.\n",
        "Gizmo",
        embedder,
    )
    listed = [c for c in caps if any("called when" in e.quote for e in c.evidence[:1])]
    assert len(listed) <= 1, [c.name for c in caps]


def test_lowercase_tool_names_keep_their_tagline_and_title_subtitle(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# gizmo – a friendly archiver for nested log folders\n\n"
        "gizmo is a fast command-line archiver for rotating log folders.\n\n"
        "## Features\n\n- Parallel compression of large archives.\n- Integrity checks on every read.\n",
        "gizmo",
        embedder,
    )
    quotes = [e.quote for c in caps for e in c.evidence]
    assert "gizmo is a fast command-line archiver for rotating log folders." in quotes, quotes
    assert "a friendly archiver for nested log folders" in quotes, quotes


def test_a_one_word_name_takes_its_sentences_noun_phrase(embedder: SentenceTransformerEmbedder) -> None:
    from capmatch.extractor.decompose.extractive import _phrase_for_word

    def keyphrase(sentence: str) -> str | None:
        return "parallel image resizing" if "parallel" in sentence else None

    sentence = "Because the engine is parallel, image resizing is quick."
    assert _phrase_for_word("Quick", sentence, "Gizmo", keyphrase) == "Parallel image resizing"
    # An item of the sentence's own list of features keeps its word; so does a bare heading.
    assert _phrase_for_word("Retries", "It supports parallel tasks, retries, task locks etc.", "Gizmo", keyphrase) == (
        "Retries"
    )
    assert _phrase_for_word("Concurrency", "Concurrency", "Gizmo", keyphrase) == "Concurrency"


def test_a_sentence_about_this_module_before_its_link_is_a_capability(embedder: SentenceTransformerEmbedder) -> None:
    caps = decompose_markdown(
        "# README\n\nPyPI package:\n\nhttps://pypi.example.org/gizmo\n\n"
        "This module wraps the Quanta signal processing library:\n\nhttps://quanta.example.org/\n\n"
        "Because gizmo streams its input, it needs little memory even for very long recordings.\n\n"
        "Gizmo also ships type hints for every public function.\n",
        "gizmo",
        embedder,
    )
    quotes = [e.quote for c in caps for e in c.evidence]
    assert any(q.startswith("This module wraps the Quanta signal processing library") for q in quotes), quotes
