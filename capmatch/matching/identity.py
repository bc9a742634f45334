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
