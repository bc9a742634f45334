"""Cleaning keeps structure (headings, lists, tables), drops chrome and scripts, and refuses empty pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from capmatch.errors import EmptyDocument
from capmatch.extractor.clean import clean

PAGES = Path(__file__).parent / "pages"
DOCS = Path(__file__).parent.parent / "fixtures" / "docs"


def test_html_keeps_headings_lists_and_tables_and_drops_chrome() -> None:
    doc = clean((DOCS / "driftwell.html").read_text(), "html")
    assert doc.title == "Driftwell"
    assert "\n## " in doc.text
    assert "\n- " in doc.text
    assert "\n| " in doc.text
    raw = (DOCS / "driftwell.html").read_text()
    footer = raw.split("<footer>", 1)[1].split("</footer>", 1)[0]
    assert footer.strip()
    assert " ".join(footer.split())[:30] not in " ".join(doc.text.split())


def test_scripts_and_zero_width_characters_are_removed() -> None:
    doc = clean((PAGES / "hostile.html").read_text(), "html")
    assert "alert(" not in doc.text
    assert "window.location" not in doc.text
    assert "\u200b" not in doc.text
    assert "Offline editing that merges changes" in doc.text


def test_markdown_passes_through_with_structure() -> None:
    doc = clean((PAGES / "tiny.md").read_text(), "markdown")
    assert doc.title == "Quillpad"
    assert doc.text.startswith("# Quillpad")
    assert "- Embeds fonts so documents look the same on every machine." in doc.text


def test_rst_sections_and_title() -> None:
    doc = clean((DOCS / "pliant.rst").read_text(), "rst")
    assert doc.title == "Pliant"
    assert "http.client" in doc.text
    assert "``http.client``" not in doc.text  # inline literals are rendered, not left as markup
    assert "\n## " in doc.text or doc.text.startswith("#")


def test_plain_text_passes_through() -> None:
    doc = clean("Tally counts words.\n\nIt supports   many languages.", "text")
    assert doc.title == "Tally counts words."
    assert "It supports   many languages." in doc.text


def test_markdown_emphasis_and_escapes_are_removed() -> None:
    doc = clean("# T\n\nT is **fast** and *small*, see `snake_case` names like a\\_b.\n", "markdown")
    assert "T is fast and small" in doc.text
    assert "**" not in doc.text


@pytest.mark.parametrize(
    ("raw", "fmt"), [("<html><body></body></html>", "html"), ("   \n\n", "markdown"), ("<script>x()</script>", "html")]
)
def test_empty_pages_are_refused(raw: str, fmt: str) -> None:
    with pytest.raises(EmptyDocument, match="no readable text"):
        clean(raw, fmt)
