"""A tool's identity: its name and the page's own words for what it is."""

from __future__ import annotations

IDENTITY_WHOLE_TEXT_WORDS = 80


def identity_text(name: str, summary: str, text: str = "") -> str:
    """What kind of tool this is, in the page's own words: its name and its self-description —
    the summary sentence of a page, or the whole text when the document is itself a short
    description (a catalog line, a one-paragraph blurb)."""
    words = text.split()
    if words and len(words) <= IDENTITY_WHOLE_TEXT_WORDS:
        return f"{name}: {' '.join(words)}"
    return f"{name}: {summary}" if summary else name


# MiniLM reads 256 word pieces; a few more words than that is all of the page it can see.
DOCUMENT_WORDS = 300


def document_text(text: str) -> str:
    """The opening of the cleaned page, as a whole-text embedding reads it. Without the tool's name:
    the identity carries it, and here it only pulls tools with similar names together (measured on
    the Debian mid-length set: P@5 0.491 with the name, 0.502 without)."""
    return " ".join(text.split()[:DOCUMENT_WORDS])
